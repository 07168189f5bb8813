import Vocabulary

/// The durable store behind orders, the order event log, idempotency keys, ratings and webhook deliveries.
///
/// Two implementations: `SQLiteStore` (the embedded default) and `PostgresStore` (docs/storage.md).
///
/// **Writes** are asynchronous: each takes a `@Sendable` completion that runs on the store's writer
/// thread *after* the operation's transaction has committed durably (per the store's synchronous
/// setting). Never on the caller's thread; the Engine hops it back to the loop (`uv_async`).
/// A completion with `.success` means the data survives `kill -9`.
///
/// **Reads** are synchronous and short (a single indexed lookup on a pooled reader connection); they never
/// wait for the writer, but they block their thread (a PostgreSQL read is a network round trip), so the Engine
/// makes them on a worker, never on the loop. A read issued after a completion ran sees that write.
public protocol Store: AnyObject, Sendable {
    /// Creates an order (status `created`, or `quoted` when it names a quote), writes its events and,
    /// with `idempotency`, records the key; a repeated key with the same fingerprint answers the first
    /// order with `replayed = true`, with another fingerprint `idempotency_conflict`.
    func createOrder(_ order: NewOrder, idempotency: IdempotencyRequest?, actor: ActorRef,
                     completion: @escaping @Sendable (Result<CreateOrderOutcome, StorageError>) -> Void)

    /// Moves an order to another status if its committed status is one the request names (a compare-and-set;
    /// see `OrderTransitionRequest`), and appends one event. The store knows no transition graph.
    func transitionOrder(_ request: OrderTransitionRequest,
                         completion: @escaping @Sendable (Result<TransitionOutcome, StorageError>) -> Void)

    /// Adds a rating, once per order and direction, to a delivered order, updating the subject's totals.
    func addRating(_ rating: NewRating, completion: @escaping @Sendable (Result<RatingRecord, StorageError>) -> Void)

    /// Records a webhook delivery to make (state `pending`).
    func enqueueWebhook(endpoint: String, event: String, body: [UInt8],
                        completion: @escaping @Sendable (Result<WebhookDeliveryID, StorageError>) -> Void)

    /// Records the outcome of a delivery attempt: `delivered`, still `pending` with one more attempt
    /// counted, or `dead` (also copied to the dead-letter table).
    func recordWebhookAttempt(_ id: WebhookDeliveryID, attempts: Int, outcome: WebhookDeliveryRecord.State,
                              error: String?, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void)

    /// Deletes idempotency keys recorded before `createdBeforeMs` (the orders stay); answers how many.
    /// Run it periodically (e.g. keys older than 24 h) so the table does not grow without bound;
    /// a retry after that window creates a new order.
    func pruneIdempotencyKeys(createdBeforeMs: Int64, completion: @escaping @Sendable (Result<Int, StorageError>) -> Void)

    /// Appends an event that is not a status change (a courier's arrival) to an order's log: the row keeps the
    /// order's status on both sides and says what happened in `reason` (e.g. `arrived_pickup`).
    /// - Completion: `order_not_found` when the order does not exist.
    func appendOrderNote(_ order: OrderID, status: OrderStatus, actor: ActorRef, reason: String, atMs: Int64,
                         completion: @escaping @Sendable (Result<Void, StorageError>) -> Void)

    /// Writer counters (transactions, operations, largest batch, failures, queue depth) for metrics.
    var writeStats: WriteStats { get }

    /// The order with that id, or nil.
    func order(_ id: OrderID) throws(StorageError) -> OrderRecord?
    /// Orders matching a filter, newest first.
    func orders(_ query: OrderQuery) throws(StorageError) -> [OrderRecord]
    /// The order's events, oldest first.
    func events(of id: OrderID) throws(StorageError) -> [OrderEvent]
    /// A page of the order's events, oldest first: those whose sequence is above `afterSequence` (0: from the
    /// first), at most `limit` (one indexed range scan, for the console's timeline).
    func events(of id: OrderID, afterSequence: Int64, limit: Int) throws(StorageError) -> [OrderEvent]
    /// The order first created with this customer's key, and the fingerprint it was created with.
    func idempotentOrder(customer: CustomerID, key: String) throws(StorageError) -> (fingerprint: String, order: OrderRecord)?
    /// Every order not in a terminal status, oldest first: what the Engine reloads at start.
    func liveOrders() throws(StorageError) -> [OrderRecord]
    /// The ratings of one order.
    func ratings(of id: OrderID) throws(StorageError) -> [RatingRecord]
    /// Rating totals of every subject of one kind (loaded once at start by the rating book).
    func ratingTotals(kind: RatingSubjectKind) throws(StorageError) -> [RatingTotals]
    /// Deliveries still `pending`, oldest first (reloaded at start by the webhook sink).
    func pendingWebhooks() throws(StorageError) -> [WebhookDeliveryRecord]
    /// One delivery, or nil.
    func webhookDelivery(_ id: WebhookDeliveryID) throws(StorageError) -> WebhookDeliveryRecord?
    /// Dead letters, oldest first.
    func deadLetters(limit: Int) throws(StorageError) -> [WebhookDeadLetter]

    /// Blocks until every write submitted before the call has committed and its completion ran.
    /// Never call on the loop thread.
    func flush()
    /// Flushes, stops the writer thread and fails later writes with `storage_closed`. Idempotent.
    func close()
}

import HTTPServer
import Marketplace
import Storage

/// The orders, pricing and ratings error codes: a code's name is a contract with clients (docs/orders.md).
extension APIError.Code {
    public static let orderNotFound = APIError.Code("order_not_found", 404)
    public static let quoteNotFound = APIError.Code("quote_not_found", 404)
    public static let deliveryNotFound = APIError.Code("delivery_not_found", 404)
    public static let invalidTransition = APIError.Code("invalid_transition", 409)
    public static let idempotencyConflict = APIError.Code("idempotency_conflict", 409)
    public static let alreadyRated = APIError.Code("already_rated", 409)
    public static let ratingNotAllowed = APIError.Code("rating_not_allowed", 409)
    public static let quoteMismatch = APIError.Code("quote_mismatch", 409)
    public static let quoteExpired = APIError.Code("quote_expired", 410)
    public static let invalidInput = APIError.Code("invalid_input", 422)
    public static let unknownVehicle = APIError.Code("unknown_vehicle", 422)
    public static let storageFailure = APIError.Code("storage_failure", 503)
    public static let storageClosed = APIError.Code("storage_closed", 503)
    /// 503: the disk under the store is full; the order was not taken (retry once space returns).
    public static let storageFull = APIError.Code("storage_full", 503)
    /// 429: the customer already has `--max-orders-per-customer` live orders.
    public static let tooManyOrders = APIError.Code("too_many_orders", 429)
    public static let quoteCapacity = APIError.Code("quote_capacity", 503)
    /// 409: cluster mode; this engine does not own the order's partition (another shard took it, or its lease
    /// lapsed); nothing was written: retry at the partition's owner (docs/cluster.md).
    public static let partitionMoved = APIError.Code("partition_moved", 409)
    /// 409: cluster mode; the courier already holds as many active orders as its capacity, across shards.
    public static let courierAtCapacity = APIError.Code("courier_at_capacity", 409)
    /// 400: `ready_in_s`, `deadline_s` or `max_ride_s` is not a whole number of seconds in range (docs/dispatch.md).
    public static let invalidOrderTiming = APIError.Code("invalid_order_timing", 400)
}

/// Marketplace and storage errors as the API errors clients see.
enum OrderAPIErrors {
    /// The one mapping from Marketplace (and, through it, Storage) codes to HTTP: every code the two modules
    /// can produce has its status here; an unknown future code is a 500 with its name kept.
    static func apiError(_ error: MarketplaceError) -> APIError {
        let code: APIError.Code
        switch error.code.name {
        case "order_not_found": code = .orderNotFound
        case "quote_not_found": code = .quoteNotFound
        case "delivery_not_found": code = .deliveryNotFound
        case "invalid_transition": code = .invalidTransition
        case "idempotency_conflict": code = .idempotencyConflict
        case "already_rated": code = .alreadyRated
        case "rating_not_allowed": code = .ratingNotAllowed
        case "quote_mismatch": code = .quoteMismatch
        case "quote_expired": code = .quoteExpired
        case "forbidden": code = .forbidden
        case "invalid_input": code = .invalidInput
        case "invalid_coordinate": code = .invalidCoordinate
        case "unknown_vehicle": code = .unknownVehicle
        case "no_route": code = .noRoute
        case "storage_failure": code = .storageFailure
        case "storage_closed": code = .storageClosed
        case "storage_full": code = .storageFull
        case "quote_capacity": code = .quoteCapacity
        case "partition_moved": code = .partitionMoved
        case "courier_at_capacity": code = .courierAtCapacity
        case "invalid_config": code = APIError.Code("invalid_config", 500)
        default: code = APIError.Code(error.code.name, 500)
        }
        return APIError(code, error.message)
    }

    /// A Storage error through the same mapping.
    static func apiError(_ error: StorageError) -> APIError { apiError(MarketplaceError(error)) }
}

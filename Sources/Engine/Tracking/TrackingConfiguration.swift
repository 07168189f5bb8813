/// Limits and budgets of the driver channel and the tracking hub (docs/websocket.md).
///
/// The defaults bound what one client can cost the loop: a few KiB of state, a bounded outgoing queue, and no
/// message it can send that makes the loop work for long.
public struct TrackingConfiguration: Sendable {
    /// Driver, order and bbox subscriptions one tracking connection may hold at once.
    public var maxSubscriptions = 64
    /// H3 cells one `cells` subscribe message may list.
    public var maxCellsPerSubscription = 1_000
    /// H3 cells one tracking connection may follow in total.
    public var maxCellsPerConnection = 4_096
    /// Largest text message accepted on `/v1/ws/track` (commands are small); larger closes with 1009.
    public var maxTrackMessageBytes = 64 << 10
    /// Largest text message accepted on `/v1/ws/driver`; larger closes with 1009.
    public var maxDriverTextBytes = 8 << 10
    /// Largest binary message accepted on `/v1/ws/driver` (2,048 records); larger closes with 1009.
    public var maxDriverBinaryBytes = 64 << 10
    /// A subscriber whose unsent bytes exceed this skips ticks (its updates wait, latest per driver).
    public var softBudgetBytes = 256 << 10
    /// A subscriber whose unsent bytes exceed this is closed with `evictionCloseCode` and counted.
    public var hardBudgetBytes = 1 << 20
    /// A subscriber over the soft budget for this long (it reads nothing) is evicted like one past the hard budget.
    public var maxStalledMs: Int64 = 5_000
    /// Close code for a subscriber past the hard budget: 1013 "try again later" (or 1008 "policy").
    public var evictionCloseCode: UInt16 = 1013
    /// Every connection is pinged this often: a listener that sends nothing still answers with pongs, which keeps
    /// it clear of the server's idle timeout (120 s), and a vanished peer is found.
    public var keepaliveMs: Int64 = 30_000
    /// Shortest time between the starts of two fan-outs, in ms; nil: the engine's `trackTickMs`. A fix that arrives
    /// when the last fan-out began longer ago than this goes out on the next loop iteration; otherwise it waits for
    /// the rest of the interval, coalescing with what else arrives.
    public var fanoutIntervalMs: UInt64?
    /// Work one tick's sending may do before yielding to the loop; the rest continues on the next iteration.
    public var sliceBudgetNs: UInt64 = 1_000_000
    /// Drivers sent at most in the snapshot that answers a bbox or cells subscription.
    public var maxSnapshotDrivers = 5_000
    /// A table up to this many rows is scanned for a bbox snapshot; larger ones use a polygon query (small bboxes
    /// only), so one subscribe never costs the loop more than a few milliseconds.
    public var maxSnapshotScanRows = 100_000
    /// Side of the square grid (in 1e-7 degrees) that indexes bbox subscriptions: 0.05° ≈ 5.5 km.
    public var bboxGridE7: Int32 = 500_000
    /// A bbox covering more grid squares than this is kept in a list checked against every moving driver.
    public var maxBBoxGridSquares = 4_096

    /// The defaults.
    public init() {}
}

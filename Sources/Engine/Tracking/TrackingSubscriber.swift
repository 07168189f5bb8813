import FleetIndex
import HTTPServer
import HexGeo

/// One `/v1/ws/track` connection's subscriptions and per-tick state. Loop-owned; a few hundred bytes when idle.
final class TrackingSubscriber {
    let connection: WebSocketConnection
    /// The caller, nil for an anonymous viewer (public tracking only).
    let principal: Principal?
    /// Positions go out as binary messages (`?format=binary`).
    let binary: Bool
    /// A dispatcher only sees drivers of its fleet (or of no fleet); its subject names the fleet.
    let fleet: String?
    var drivers: [UInt64] = []
    var orders: [UInt64] = []
    var bboxes: [TrackBBox] = []
    var cells: Set<H3Cell> = []
    /// Whether this subscriber sits in the hub's wide-bbox list (at most once).
    var inWideList = false
    /// The last (tick, driver) mark delivered, so a driver matched by several subscriptions goes out once.
    var lastMark = -1
    /// Batch indices for this tick.
    var pending: [Int32] = []
    /// Fixes held back while the client was over its soft budget (latest per driver), plus subscription snapshots.
    var backlog: [UInt64: DriverState] = [:]
    /// When the client went over its soft budget (nil while under it).
    var overBudgetSinceMs: Int64?
    var closed = false
    /// Which tick of the keepalive interval pings this connection.
    var keepaliveSlot = 0

    init(connection: WebSocketConnection, principal: Principal?, binary: Bool) {
        self.connection = connection
        self.principal = principal
        self.binary = binary
        fleet = principal?.role == .dispatcher ? principal?.subject : nil
    }

    /// Driver, order and bbox subscriptions held (cells count separately).
    var subscriptionCount: Int { drivers.count + orders.count + bboxes.count }

    func containsInBBox(latE7: Int32, lngE7: Int32) -> Bool {
        for b in bboxes where b.contains(latE7: latE7, lngE7: lngE7) { return true }
        return false
    }
}

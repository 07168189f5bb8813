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
    /// Its dense slot in the hub's `TrackingIndex` (reused only after the tick that saw it close has ended).
    let slot: Int32
    /// Drivers whose fixes were held back while the client was over its soft budget, plus subscription snapshots:
    /// their latest states are read from the table when the client is sent to again.
    var backlog = DriverIDSet()
    /// When the client went over its soft budget (nil while under it).
    var overBudgetSinceMs: Int64?
    var closed = false

    init(connection: WebSocketConnection, principal: Principal?, binary: Bool, slot: Int32) {
        self.connection = connection
        self.slot = slot
        self.principal = principal
        self.binary = binary
        fleet = principal?.role == .dispatcher ? principal?.name : nil
    }

    /// Driver, order and bbox subscriptions held (cells count separately).
    var subscriptionCount: Int { drivers.count + orders.count + bboxes.count }
}

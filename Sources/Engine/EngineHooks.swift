import FleetIndex
import HTTPServer
import JSON

/// Seams between the engine's modules, filled in by their `install…` functions so that no module reaches
/// into another's state: the tracking hub asks orders who holds an order, dispatch pushes offers through the
/// driver channel, and so on. Loop-owned like the engine.
struct EngineHooks {
    /// The courier currently holding an order, if any (orders fill this in).
    var courierOfOrder: (UInt64) -> DriverID? = { _ in nil }
    /// The customer who placed an order, if the order exists (orders fill this in).
    var customerOfOrder: (UInt64) -> String? = { _ in nil }
    /// The dispatcher fleet a driver belongs to, if fleets are configured (nil: every dispatcher sees it).
    var fleetOfDriver: (DriverID) -> String? = { _ in nil }
    /// Handlers for driver-channel JSON messages that are not pings (`{"op":"accept",…}`); a handler returns
    /// true when it took the message. Dispatch adds accept/decline here.
    var driverMessageHandlers: [(_ driver: DriverID, _ op: String, _ message: JSONValue) -> Bool] = []
    /// Sends a JSON text message to a connected driver; false when the driver has no open channel (the
    /// driver channel fills this in).
    var pushToDriver: (DriverID, [UInt8]) -> Bool = { _, _ in false }
    /// Sends a JSON event to every tracking subscriber of an order (the tracking hub fills this in).
    var pushToOrderWatchers: (UInt64, [UInt8]) -> Void = { _, _ in }
}

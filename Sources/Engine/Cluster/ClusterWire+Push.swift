import Vocabulary

/// Messages for drivers whose WebSocket is on another engine (docs/cluster.md, "Offers pushed through any shard"):
/// a shard that has a message for a driver not connected to it (an offer, its withdrawal or expiry, an order update)
/// publishes it once on `hexfleet.push.<its node>`; every engine hears `hexfleet.push.*` and the one holding the
/// driver's channel sends it.
extension ClusterWire {
    /// kind 5, u8 0, u16 0, u32 length N of the message, u64 driver id, then the N bytes of the JSON message.
    static let driverPushKind: UInt8 = 5
    /// The longest message relayed (an offer or an order is a few hundred bytes).
    static let maxDriverPushBytes = 1 << 16

    static func pushSubject(_ node: String) -> String { "hexfleet.push." + node }
    /// Every engine's relayed driver messages.
    static let pushWildcard = "hexfleet.push.*"

    static func driverPush(_ driver: DriverID, _ json: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.u8(driverPushKind); w.u8(0); w.u16(0); w.u32(UInt32(json.count)); w.u64(driver.rawValue)
        w.bytes.append(contentsOf: json)
        return w.bytes
    }

    /// The driver and message of a relayed push, or nil when it is not one or its length is wrong.
    static func driverPush(_ d: [UInt8]) -> (driver: DriverID, json: [UInt8])? {
        var r = ByteReader(d)
        guard r.u8() == driverPushKind, r.u8() == 0, r.u16() == 0, let count = r.u32(), Int(count) <= maxDriverPushBytes,
              let id = r.u64(), let json = r.take(Int(count)), r.isAtEnd else { return nil }
        return (DriverID(id), Array(json))
    }
}

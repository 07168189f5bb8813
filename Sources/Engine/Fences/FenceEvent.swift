import JSON
import Vocabulary

/// The kinds of fence events, with their wire names; `allCases` orders the `event` label of
/// `hexfleet_fence_events_total`.
enum FenceEventKind: UInt8, CaseIterable, Sendable {
    case enter, exit, inside, outside, cross

    /// The wire name.
    var name: String {
        switch self {
        case .enter: "enter"
        case .exit: "exit"
        case .inside: "inside"
        case .outside: "outside"
        case .cross: "cross"
        }
    }
}

/// One fence event: `{"type":"fence","fence":…,"driver":…,"event":…,"ts":…,"lat":…,"lng":…}`.
struct FenceEvent: Sendable, Equatable {
    var fence: String
    var driver: DriverID
    var kind: FenceEventKind
    /// The time of the ping that decided it (ms since the epoch).
    var timestampMs: Int64
    var latE7: Int32
    var lngE7: Int32

    /// The event's JSON.
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string("fence")
        w.key("fence"); w.string(fence)
        w.key("driver"); w.number(driver.rawValue)
        w.key("event"); w.string(kind.name)
        w.key("ts"); w.number(timestampMs)
        w.key("lat"); w.number(Double(latE7) / 1e7)
        w.key("lng"); w.number(Double(lngE7) / 1e7)
        w.endObject()
    }

    var json: [UInt8] {
        var w = JSONWriter(capacity: 160)
        write(&w)
        return w.bytes
    }
}

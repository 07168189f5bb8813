import FleetIndex
import HTTPServer
import JSON

/// The drivers that moved during one tracking tick, latest fix per driver, each encoded once so that every
/// subscriber's message is a concatenation of shared bytes.
///
/// JSON: one object per driver, `{"id":…,"lat":…,"lng":…,"status":"…","ts":…}`, back to back in `json`; the
/// i-th spans `jsonStart(i)..<jsonEnds[i]`. Binary: one 32-byte record per driver in the ping record layout
/// (`PingWire.write`), the i-th at `32·i`. Loop-owned; buffers keep their capacity from tick to tick.
struct PositionBatch {
    /// The drivers of this tick, in the order they first moved.
    private(set) var states: [DriverState] = []
    private var indexByID: [UInt64: Int] = [:]
    private var writer = JSONWriter(capacity: 64 << 10)
    private(set) var jsonEnds: [Int] = []
    private(set) var binary: [UInt8] = []
    private(set) var hasBinary = false

    var isEmpty: Bool { states.isEmpty }
    var count: Int { states.count }

    /// Records a fix; a newer fix of the same driver in the same tick replaces the earlier one (fixes from other
    /// shards can arrive out of order).
    mutating func add(_ s: DriverState) {
        if let i = indexByID[s.id.rawValue] {
            if s.timestampMs >= states[i].timestampMs { states[i] = s }
        } else {
            indexByID[s.id.rawValue] = states.count
            states.append(s)
        }
    }

    /// The batch index of a driver, if it moved this tick.
    func index(of id: UInt64) -> Int? { indexByID[id] }

    /// Starts encoding this batch: JSON always, binary records too when `binary` is set. Drivers are then encoded
    /// one at a time, in order, by `encodeNext()`, so a big batch is encoded in the same time slices as it is matched.
    mutating func beginEncoding(binary wantBinary: Bool) {
        writer.reset()
        jsonEnds.removeAll(keepingCapacity: true)
        hasBinary = wantBinary
        binary.removeAll(keepingCapacity: true)
        if wantBinary { binary.reserveCapacity(states.count * PingWire.recordBytes) }
    }

    /// Drivers encoded so far (indices `0..<encodedCount`).
    var encodedCount: Int { jsonEnds.count }

    /// Encodes the next driver (index `encodedCount`).
    mutating func encodeNext() {
        let s = states[jsonEnds.count]
        Self.writeJSON(&writer, s)
        jsonEnds.append(writer.bytes.count)
        if hasBinary { Self.appendRecord(&binary, s) }
    }

    /// The JSON bytes of all drivers (index with `jsonStart`/`jsonEnds`).
    var json: [UInt8] { writer.bytes }

    @inline(__always) func jsonStart(_ i: Int) -> Int { i == 0 ? 0 : jsonEnds[i - 1] }

    /// Forgets this tick's drivers, keeping capacity.
    mutating func removeAll() {
        states.removeAll(keepingCapacity: true)
        indexByID.removeAll(keepingCapacity: true)
    }

    /// Writes one driver's position object.
    static func writeJSON(_ w: inout JSONWriter, _ s: DriverState) {
        w.beginObject()
        w.key("id"); w.number(s.id.rawValue)
        w.key("lat"); w.number(s.latDegrees)
        w.key("lng"); w.number(s.lngDegrees)
        w.key("status"); w.string(s.status.name)
        w.key("ts"); w.number(s.timestampMs)
        w.endObject()
    }

    /// Appends one driver as a 32-byte record in the ping record layout.
    static func appendRecord(_ out: inout [UInt8], _ s: DriverState) {
        let o = out.count
        out.append(contentsOf: repeatElement(0, count: PingWire.recordBytes))
        out.withUnsafeMutableBytes { writeRecord(s, into: UnsafeMutableRawBufferPointer(rebasing: $0[o...])) }
    }

    /// Writes one driver as a 32-byte record in the ping record layout at the start of `out`.
    static func writeRecord(_ s: DriverState, into out: UnsafeMutableRawBufferPointer) {
        let r = PingRecord(driverID: s.id.rawValue, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7,
                           speedCmPerSecond: s.speedCmPerSecond, headingCentidegrees: s.headingCentidegrees,
                           accuracyDecimetres: s.accuracyDecimetres, status: s.status.rawValue)
        PingWire.write(r, at: 0, into: out)
    }
}

import FleetIndex
import HTTPServer

/// Builds one subscriber's `positions` message for a tick from the batch's shared bytes.
///
/// JSON text: `{"type":"positions","drivers":[…]}`. Binary (`?format=binary`, docs/websocket.md): an 8-byte
/// header — u8 type 1 (positions), u8 version 1, u16 reserved 0, u32 driver count, little-endian — then one
/// 32-byte record per driver in the UDP ping record layout.
enum PositionMessage {
    static let binaryType: UInt8 = 1
    static let binaryVersion: UInt8 = 1
    static let binaryHeaderBytes = 8
    private static let jsonPrefix = Array(#"{"type":"positions","drivers":["#.utf8)
    private static let jsonSuffix = Array("]}".utf8)

    /// Writes a JSON message for the earlier-held `extra` states followed by the batch entries `indices` into
    /// `out` (cleared first).
    static func json(into out: inout [UInt8], batch: PositionBatch, indices: [Int32], extra: [DriverState]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: jsonPrefix)
        var first = true
        var w = JSONWriter(capacity: 128)
        for s in extra {
            w.reset()
            PositionBatch.writeJSON(&w, s)
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: w.bytes)
        }
        batch.json.withUnsafeBufferPointer { all in
            for i in indices {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(contentsOf: all[batch.jsonStart(Int(i))..<batch.jsonEnds[Int(i)]])
            }
        }
        out.append(contentsOf: jsonSuffix)
    }

    /// Writes a binary message for `extra` states followed by the batch entries `indices` into `out`.
    static func binary(into out: inout [UInt8], batch: PositionBatch, indices: [Int32], extra: [DriverState]) {
        out.removeAll(keepingCapacity: true)
        let n = UInt32(extra.count + indices.count)
        out.append(binaryType)
        out.append(binaryVersion)
        out.append(0); out.append(0)
        out.append(UInt8(truncatingIfNeeded: n)); out.append(UInt8(truncatingIfNeeded: n >> 8))
        out.append(UInt8(truncatingIfNeeded: n >> 16)); out.append(UInt8(truncatingIfNeeded: n >> 24))
        for s in extra { PositionBatch.appendRecord(&out, s) }
        batch.binary.withUnsafeBufferPointer { all in
            for i in indices {
                let o = Int(i) * PingWire.recordBytes
                out.append(contentsOf: all[o..<(o + PingWire.recordBytes)])
            }
        }
    }
}

import FleetIndex
import Vocabulary

/// The live map across shards (docs/cluster.md, "Tracking across shards"): each shard publishes the drivers that
/// moved in its table on `hexfleet.track.<node>`, while some engine says it has tracking subscribers.
extension ClusterWire {
    /// Drivers that moved in a shard's table: kind 3, node name length L, u16 0, u32 count N, the node name, then
    /// N 32-byte records in the ping record layout (the binary tracking message's records).
    static let positionsKind: UInt8 = 3
    /// An engine with tracking subscribers asks the shards to publish: kind 4, L, u16 0, u32 0, the node name.
    static let watchingKind: UInt8 = 4
    /// Records per positions message at most (64 KiB of records); a fuller tick goes in several messages.
    static let maxPositionRecords = 2_048

    static func trackSubject(_ node: String) -> String { "hexfleet.track." + node }
    /// Every shard's positions and every engine's watching notice.
    static let trackWildcard = "hexfleet.track.*"

    /// Starts a positions message from `node` in `buffer` (emptied first); append with `appendPosition`, then
    /// `finishPositions`.
    static func beginPositions(_ buffer: inout [UInt8], from node: String) {
        let name = Array(node.utf8.prefix(255))
        buffer.removeAll(keepingCapacity: true)
        buffer.append(positionsKind)
        buffer.append(UInt8(name.count))
        buffer.append(contentsOf: [0, 0, 0, 0, 0, 0])
        buffer.append(contentsOf: name)
    }

    /// Appends one driver's state as a 32-byte record.
    static func appendPosition(_ s: DriverState, to buffer: inout [UInt8]) {
        PositionBatch.appendRecord(&buffer, s)
    }

    /// The number of records in a positions message being built.
    static func positionCount(_ buffer: [UInt8]) -> Int {
        guard buffer.count >= headerBytes else { return 0 }
        return (buffer.count - headerBytes - Int(buffer[1])) / PingWire.recordBytes
    }

    /// Writes the record count into a positions message.
    static func finishPositions(_ buffer: inout [UInt8]) {
        let count = UInt32(positionCount(buffer))
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: count.littleEndian, toByteOffset: 4, as: UInt32.self) }
    }

    /// The sender and driver states of a positions message, or nil when it is not one, its length is wrong, or a
    /// record has an unknown status or a position off the globe.
    static func positions(_ d: [UInt8]) -> (node: String, states: [DriverState])? {
        guard d.count >= headerBytes, d[0] == positionsKind else { return nil }
        let nameCount = Int(d[1])
        return d.withUnsafeBytes { bytes -> (String, [DriverState])? in
            let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            guard count <= maxCount, d.count == headerBytes + nameCount + count * PingWire.recordBytes else { return nil }
            let records = UnsafeRawBufferPointer(rebasing: bytes[(headerBytes + nameCount)...])
            var states: [DriverState] = []
            states.reserveCapacity(count)
            for i in 0..<count {
                let r = PingWire.record(at: i * PingWire.recordBytes, in: records)
                guard let status = DriverStatus(rawValue: r.status), abs(Int64(r.latE7)) <= 900_000_000,
                      abs(Int64(r.lngE7)) <= 1_800_000_000 else { return nil }
                states.append(DriverState(id: DriverID(r.driverID), latE7: r.latE7, lngE7: r.lngE7, timestampMs: r.timestampMs,
                                          speedCmPerSecond: r.speedCmPerSecond, headingCentidegrees: r.headingCentidegrees,
                                          accuracyDecimetres: r.accuracyDecimetres, status: status))
            }
            return (String(decoding: d[headerBytes..<(headerBytes + nameCount)], as: UTF8.self), states)
        }
    }

    /// A watching notice from `node`.
    static func watching(from node: String) -> [UInt8] {
        let name = Array(node.utf8.prefix(255))
        return [watchingKind, UInt8(name.count), 0, 0, 0, 0, 0, 0] + name
    }

    /// The node of a watching notice, or nil when it is not one.
    static func watching(_ d: [UInt8]) -> String? {
        guard d.count >= headerBytes, d[0] == watchingKind, d.count == headerBytes + Int(d[1]),
              d[2...7].allSatisfy({ $0 == 0 }) else { return nil }
        return String(decoding: d[headerBytes...], as: UTF8.self)
    }
}

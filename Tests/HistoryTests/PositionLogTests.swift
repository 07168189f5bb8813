import Foundation
import History
import TestSupport
import Testing
import Vocabulary

/// A fresh directory for one log; removed at the end of each test.
private struct TempLogDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-history-\(UUID().uuidString)").path
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

private func randomPoints(_ rng: inout SeededRandom, drivers: Int, count: Int, startMs: Int64, spanMs: Int64) -> [HistoryPoint] {
    var last = [Int64](repeating: startMs, count: drivers)
    var out: [HistoryPoint] = []
    for _ in 0..<count {
        let d = Int.random(in: 0..<drivers, using: &rng)
        last[d] += Int64.random(in: 1...(max(2, 2 * spanMs * Int64(drivers) / Int64(count))), using: &rng)
        out.append(HistoryPoint(driver: DriverID(UInt64(d * 7919 + 1)), timestampMs: last[d],
                                latE7: Int32.random(in: -900_000_000...900_000_000, using: &rng),
                                lngE7: Int32.random(in: -1_800_000_000...1_800_000_000, using: &rng),
                                speedCmPerSecond: UInt16.random(in: 0...UInt16.max, using: &rng),
                                status: DriverStatus(rawValue: UInt8.random(in: 0...4, using: &rng))!))
    }
    return out
}

private func expected(_ all: [HistoryPoint], _ driver: DriverID, _ from: Int64, _ to: Int64, _ limit: Int) -> [HistoryPoint] {
    Array(all.filter { $0.driver == driver && $0.timestampMs >= from && $0.timestampMs <= to }
        .sorted { $0.timestampMs < $1.timestampMs }.prefix(limit))
}

@Suite("Position log")
struct PositionLogTests {
    @Test("points read back equal the points appended, per driver and time range, across hours and a reopen")
    func roundTrip() throws {
        let dir = try TempLogDirectory()
        defer { dir.remove() }
        var rng = SeededRandom(seed: 0x4849_5354)
        let start: Int64 = 1_764_900_000_000
        let all = randomPoints(&rng, drivers: 40, count: 6_000, startMs: start, spanMs: 3 * PositionLog.hourMs)
        do {
            let log = try PositionLog(directory: dir.path)
            // Appended in flushes of uneven size, as the service hands them over.
            var at = 0
            while at < all.count {
                let n = min(all.count - at, Int.random(in: 1...700, using: &rng))
                try log.append(Array(all[at..<(at + n)]))
                at += n
            }
            #expect(log.hours.count >= 3)
            for _ in 0..<200 {
                let d = DriverID(UInt64(Int.random(in: 0..<41, using: &rng) * 7919 + 1))
                let a = start + Int64.random(in: 0...(4 * PositionLog.hourMs), using: &rng)
                let b = a + Int64.random(in: 0...(2 * PositionLog.hourMs), using: &rng)
                let limit = Int.random(in: 1...400, using: &rng)
                #expect(log.points(of: d, fromMs: a, toMs: b, limit: limit) == expected(all, d, a, b, limit))
            }
        }
        let reopened = try PositionLog(directory: dir.path)
        for d in 0..<40 {
            let id = DriverID(UInt64(d * 7919 + 1))
            #expect(reopened.points(of: id, fromMs: start, toMs: .max / 2, limit: .max) == expected(all, id, start, .max / 2, .max))
        }
    }

    @Test("a point costs 24 bytes on disk, plus 32 per block")
    func compactOnDisk() throws {
        let dir = try TempLogDirectory()
        defer { dir.remove() }
        let log = try PositionLog(directory: dir.path)
        let points = (0..<1_000).map {
            HistoryPoint(driver: DriverID(UInt64($0 % 10)), timestampMs: 1_000_000 + Int64($0), latE7: 0, lngE7: 0, speedCmPerSecond: 0,
                         status: .available)
        }
        let written = try log.append(points)
        #expect(written == 32 + 24 * 1_000)
        #expect(log.bytesOnDisk == written)
    }

    @Test("a torn or corrupt tail is cut off at open; earlier blocks survive and appends continue")
    func tornTail() throws {
        let dir = try TempLogDirectory()
        defer { dir.remove() }
        let base: Int64 = 7 * PositionLog.hourMs
        let first = (0..<50).map {
            HistoryPoint(driver: DriverID(9), timestampMs: base + Int64($0) * 1000, latE7: Int32($0), lngE7: -Int32($0),
                         speedCmPerSecond: UInt16($0), status: .onTrip)
        }
        var good = 0
        do {
            let log = try PositionLog(directory: dir.path)
            good = try log.append(first)
        }
        let file = dir.path + "/positions-7.seg"
        // A second block cut short by a crash: its header and half its records.
        var block = (0..<20).map {
            HistoryPoint(driver: DriverID(9), timestampMs: base + 100_000 + Int64($0), latE7: 1, lngE7: 1, speedCmPerSecond: 0,
                         status: .onTrip)
        }
        let scratch = try TempLogDirectory()
        defer { scratch.remove() }
        let other = try PositionLog(directory: scratch.path)
        try other.append(block)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/positions-7.seg"))
        bytes = bytes.prefix(32 + 24 * 10)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
        try handle.close()
        var log = try PositionLog(directory: dir.path)
        #expect(log.bytesOnDisk == good)
        #expect(log.points(of: DriverID(9), fromMs: 0, toMs: .max / 2, limit: .max) == first)
        // A whole block whose records were damaged after the fact: the checksum refuses it.
        block[0].latE7 = 5
        try log.append(block)
        let damaged = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        try damaged.seek(toOffset: UInt64(good + 32 + 12))
        try damaged.write(contentsOf: Data([0xFF]))
        try damaged.close()
        log = try PositionLog(directory: dir.path)
        #expect(log.points(of: DriverID(9), fromMs: 0, toMs: .max / 2, limit: .max) == first)
        try log.append(block)
        #expect(log.points(of: DriverID(9), fromMs: 0, toMs: .max / 2, limit: .max) == first + block)
    }

    @Test("retention deletes whole hours that ended before the cutoff, and nothing newer")
    func retention() throws {
        let dir = try TempLogDirectory()
        defer { dir.remove() }
        let log = try PositionLog(directory: dir.path)
        let points = (0..<5).map {
            HistoryPoint(driver: DriverID(1), timestampMs: Int64($0) * PositionLog.hourMs + 10, latE7: 0, lngE7: 0,
                         speedCmPerSecond: 0, status: .available)
        }
        try log.append(points)
        #expect(log.hours == [0, 1, 2, 3, 4])
        #expect(log.removeSegments(endingBy: 3 * PositionLog.hourMs + 5) == 3)
        #expect(log.hours == [3, 4])
        #expect(log.points(of: DriverID(1), fromMs: 0, toMs: .max / 2, limit: 10) == Array(points.suffix(2)))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/positions-0.seg") == false)
    }

    @Test("an unwritable directory is a clear error naming the path")
    func unwritable() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-history-file-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect {
            _ = try PositionLog(directory: file + "/history")
        } throws: { error in
            (error as? HistoryError)?.description.contains(file) == true
        }
    }
}

@Suite("Trips and stops")
struct TripSplitterTests {
    /// A point `meters` east of (43.73, 7.42) at `seconds`.
    private func point(_ seconds: Int64, east meters: Double, north: Double = 0) -> HistoryPoint {
        let lat = 43.73 + north / 111_195
        let lng = 7.42 + meters / (111_195 * cos(43.73 * .pi / 180))
        return HistoryPoint(driver: DriverID(3), timestampMs: seconds * 1000, latE7: Int32((lat * 1e7).rounded()),
                            lngE7: Int32((lng * 1e7).rounded()), speedCmPerSecond: 0, status: .onTrip)
    }

    @Test("drive, stay five minutes with jitter, drive: two trips around one stop, distances summed")
    func driveStopDrive() {
        var points: [HistoryPoint] = []
        for s in 0..<60 { points.append(point(Int64(s) * 10, east: Double(s) * 100)) }          // 10 m/s east for 10 min
        var rng = SeededRandom(seed: 5)
        for s in 60..<90 {                                                                        // 5 min parked, ±20 m
            points.append(point(Int64(s) * 10, east: 5_900 + Double.random(in: -20...20, using: &rng),
                                north: Double.random(in: -20...20, using: &rng)))
        }
        for s in 90..<120 { points.append(point(Int64(s) * 10, east: 5_900, north: Double(s - 89) * 100)) }
        let (trips, stops) = TripSplitter().split(points)
        #expect(stops.count == 1)
        #expect(trips.count == 2)
        guard stops.count == 1, trips.count == 2 else { return }
        #expect(stops[0].durationMs >= 180_000)
        #expect(trips[0].start == points[0])
        #expect(trips[0].end == stops[0].start)
        #expect(trips[1].start == stops[0].end)
        #expect(trips[1].end == points.last!)
        let firstLeg = Array(points[0...points.firstIndex(of: stops[0].start)!])
        #expect(abs(trips[0].distanceMeters - TripSplitter.distanceMeters(firstLeg)) < 1e-6)
        #expect(abs(trips[0].distanceMeters - 5_900) < 60)
    }

    @Test("a two-minute halt is not a stop; an empty history has no trips")
    func shortHalt() {
        var points: [HistoryPoint] = []
        for s in 0..<30 { points.append(point(Int64(s) * 10, east: Double(s) * 100)) }
        for s in 30..<42 { points.append(point(Int64(s) * 10, east: 2_900)) }                     // 2 min still
        for s in 42..<60 { points.append(point(Int64(s) * 10, east: 2_900 + Double(s - 41) * 100)) }
        let (trips, stops) = TripSplitter().split(points)
        #expect(stops.isEmpty)
        #expect(trips.count == 1)
        #expect(TripSplitter().split([]).trips.isEmpty)
    }
}

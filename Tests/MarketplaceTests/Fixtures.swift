import Foundation
import HexGeo
import Storage
import Synchronization
import Testing
@testable import Marketplace
import Vocabulary

/// The repository root, found from this file's real path (the dev package reaches it through a symlink).
let repoRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A test clock in ms that only moves when told.
final class TestClock: Sendable {
    private let ms = Atomic<Int64>(1_700_000_000_000)
    var now: Int64 { ms.load(ordering: .relaxed) }
    func advance(seconds: Int64) { ms.add(seconds * 1000, ordering: .relaxed) }
    var closure: @Sendable () -> Int64 { { self.ms.load(ordering: .relaxed) } }
}

/// Route cost from the great-circle distance: ×1.3 for the road detour, at 10 m/s.
/// An obvious stand-in for the Routing module, whose real provider the Engine wires.
struct GreatCircleRoutes: RouteCostProvider {
    func routeCost(from: LatLng, to: LatLng, vehicle: String) -> RouteCost? {
        let dLat = to.lat - from.lat, dLng = to.lng - from.lng
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(from.lat) * cos(to.lat) * sin(dLng / 2) * sin(dLng / 2)
        let meters = 2 * 6_371_008.8 * asin(min(1, sqrt(a))) * 1.3
        return RouteCost(distanceMeters: Int64(meters.rounded()), durationSeconds: Int64((meters / 10).rounded()))
    }
}

/// A route provider with one fixed answer (nil: no route).
struct FixedRoute: RouteCostProvider {
    let cost: RouteCost?
    func routeCost(from: LatLng, to: LatLng, vehicle: String) -> RouteCost? { cost }
}

/// Zones as 0.01° × 0.01° squares (id from the integer grid), area from the spherical rectangle;
/// neighbours are the 8 squares around. Stands in for the Engine's H3 resolution-8 keyer.
struct GridKeyer: ZoneKeyer {
    func zone(for p: LatLng) -> Zone? {
        guard p.lat.isFinite, p.lng.isFinite else { return nil }
        let row = Int64((p.latDegrees * 100).rounded(.down)), col = Int64((p.lngDegrees * 100).rounded(.down))
        return Zone(id: Self.id(row, col), areaM2: 1111.95 * 1111.95 * cos(p.lat))
    }
    static func id(_ row: Int64, _ col: Int64) -> UInt64 { UInt64(bitPattern: (row + 100_000) << 32 | (col + 100_000)) }
    func neighbors(of zone: UInt64) -> [UInt64] {
        let row = Int64(zone >> 32) - 100_000, col = Int64(zone & 0xffff_ffff) - 100_000
        var out: [UInt64] = []
        for dr in Int64(-1)...1 { for dc in Int64(-1)...1 where dr != 0 || dc != 0 { out.append(Self.id(row + dr, col + dc)) } }
        return out
    }
}

/// A fresh temp directory holding a SQLite file.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-market-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var dbPath: String { url.appendingPathComponent("market.sqlite").path }
    func openStore(clock: TestClock) throws -> SQLiteStore {
        var c = StoreConfiguration()
        c.synchronous = .normal
        c.nowMs = clock.closure
        return try SQLiteStore(path: dbPath, configuration: c)
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Monaco: the casino and the port.
let casino = E7Point(latE7: 437_396_000, lngE7: 74_277_000)
let port = E7Point(latE7: 437_353_000, lngE7: 74_236_000)

/// Blocks until an asynchronous Marketplace call completes (tests only; never on the loop).
func waitFor<T: Sendable>(_ start: (@escaping @Sendable (Result<T, MarketplaceError>) -> Void) -> Void) throws(MarketplaceError) -> T {
    let box = Mutex<Result<T, MarketplaceError>?>(nil)
    let done = DispatchSemaphore(value: 0)
    start { r in box.withLock { $0 = r }; done.signal() }
    done.wait()
    guard let r = box.withLock({ $0 }) else { throw MarketplaceError(.invalidInput, "no result") }
    return try r.get()
}

/// Records an issue unless `body` throws a MarketplaceError with code `name`.
func expectCode<T>(_ name: String, _ note: String = "", sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected \(name), got success \(note)", sourceLocation: sourceLocation)
    } catch let e as MarketplaceError {
        #expect(e.code.name == name, "\(note): \(e)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(name), got \(error) \(note)", sourceLocation: sourceLocation)
    }
}

/// Polls `condition` every 2 ms until it holds or 10 s pass; returns whether it held. A deadline, not a sleep.
func waitUntil(_ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(10)
    while !condition() {
        if Date() > deadline { return false }
        usleep(2_000)
    }
    return true
}

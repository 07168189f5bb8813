// swift-tools-version:6.1
// Hexfleet: a real-time dispatch and geolocation engine on a libuv loop.
// Module boundaries follow docs/architecture.md; dependencies point downward only.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// Release builds of the loop-owned hot paths (ingest, the tracking hub, sockets, WebSocket frames) skip Swift's
/// run-time exclusivity checks: every access to a class-held property paid `swift_beginAccess` plus a thread-local
/// look-up, about 10 % of single-datagram ingest in a profile (perf, 2026-12-02). The state is loop-owned, never
/// shared across threads; static checks stay, and debug builds (the test suite) keep the run-time checks.
let loopOwnedRelease: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Hexfleet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hexfleet", targets: ["hexfleet"]),
        .library(name: "Vocabulary", targets: ["Vocabulary"]),
        .library(name: "HexGeo", targets: ["HexGeo"]),
        .library(name: "FleetIndex", targets: ["FleetIndex"]),
        .library(name: "Routing", targets: ["Routing"]),
        .library(name: "Dispatcher", targets: ["Dispatcher"]),
        .library(name: "History", targets: ["History"]),
        .library(name: "Engine", targets: ["Engine"]),
        // For the fuzz harness package (Fuzz/), which drives the parsers and the server below the Engine.
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "EventLoop", targets: ["EventLoop"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // 4.x: jwt-kit 5 needs swift-crypto 4.1 or later; our HMAC/SHA-256 calls are unchanged by it.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries: Debian's -dev packages, one shim header each.
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "CWslay", providers: [.apt(["libwslay-dev"])]),
        .systemLibrary(name: "CHTTPParser", providers: [.apt(["libhttp-parser-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The NATS client (JetStream) behind the event relay: `--nats` (docs/events.md).
        .systemLibrary(name: "CNats", pkgConfig: "libnats", providers: [.apt(["libnats-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // SHA-256's block function on two independent chains at once (SHA extensions; OpenSSL's one-chain block
        // function where the CPU lacks them): the UDP ingest pairs up its many short HMACs.
        .target(name: "CSHA256Lanes", linkerSettings: [.linkedLibrary("crypto")]),

        // The shared vocabulary every module speaks (ids, statuses, points, order status): one type per concept.
        .target(name: "Vocabulary", swiftSettings: strict),
        // The one JSON layer (reader, writer, value) for the HTTP API, WebSocket messages and notifications.
        .target(name: "JSON", swiftSettings: strict),

        // Libraries.
        .target(name: "HexGeo", dependencies: ["Vocabulary"], swiftSettings: strict),
        // The live table is loop-owned (never shared across threads), and Swift's run-time exclusivity checks on
        // its class-held columns cost about 30 % of ingest (2.4M → 3.45M records/s measured); static checks stay.
        .target(name: "FleetIndex", dependencies: ["HexGeo", "Vocabulary"],
                swiftSettings: strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .target(name: "Routing", dependencies: ["HexGeo", "Vocabulary", "JSON", "CZlib"], swiftSettings: strict),
        // Sees couriers and travel times only through its own protocols, which the Engine implements; JSON only to
        // read `hexfleet plan` instances (PlanInstance+JSON.swift) where a fuzzer can reach the reader.
        .target(name: "Dispatcher", dependencies: ["Vocabulary", "JSON"], swiftSettings: strict),
        // The position history: hour segments of driver-sorted blocks on disk, trips and stops.
        .target(name: "History", dependencies: ["Vocabulary", "CZlib"], swiftSettings: strict),
        .target(
            name: "Storage",
            dependencies: ["Vocabulary", "JSON", "CLibPQ", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .target(
            name: "Marketplace",
            dependencies: ["HexGeo", "Storage", "Vocabulary", "JSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),

        // Loop and protocols.
        .target(
            name: "EventLoop",
            dependencies: ["CLibUV"],
            swiftSettings: strict + loopOwnedRelease),
        .target(
            name: "HTTPServer",
            dependencies: ["EventLoop", "CHTTPParser", "CWslay", "JSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict + loopOwnedRelease),

        // Wiring.
        .target(
            name: "Engine",
            dependencies: [
                "Vocabulary", "JSON", "HexGeo", "FleetIndex", "Routing", "Dispatcher", "Marketplace", "Storage", "History",
                "EventLoop", "HTTPServer", "CLibCrypto", "CSHA256Lanes", "CNats",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/www")],
            swiftSettings: strict + loopOwnedRelease),
        .executableTarget(
            name: "hexfleet",
            dependencies: [
                "Engine", "Vocabulary", "JSON", "HexGeo", "Routing", "Dispatcher",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // Tests mirror modules; TestSupport holds shared helpers (vector files, process runners). Each test target
        // declares every module its files import (scripts/check-deps), not only the one it tests.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "HexGeoTests", dependencies: ["HexGeo", "Vocabulary", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HistoryTests", dependencies: ["History", "Vocabulary", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "FleetIndexTests", dependencies: ["FleetIndex", "Vocabulary", "HexGeo", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RoutingTests", dependencies: ["Routing", "Vocabulary", "HexGeo", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "DispatcherTests", dependencies: ["Dispatcher", "Vocabulary", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "StorageTests", dependencies: ["Storage", "Vocabulary", "CLibPQ", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .testTarget(
            name: "MarketplaceTests", dependencies: ["Marketplace", "Vocabulary", "JSON", "HexGeo", "Storage", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop"], swiftSettings: strict),
        .testTarget(
            name: "HTTPServerTests", dependencies: ["HTTPServer", "EventLoop", "JSON"], swiftSettings: strict),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "Vocabulary", "HexGeo", "FleetIndex", "Routing", "Dispatcher", "EventLoop", "CSHA256Lanes", "TestSupport",
                "HTTPServer", "JSON", "Storage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strict),
    ]
)

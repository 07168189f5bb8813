// swift-tools-version:6.1
// The libFuzzer harness (docs/fuzzing.md): one binary whose target is chosen by `HEXFLEET_FUZZ_TARGET`, built by
// `scripts/fuzz` with AddressSanitizer and coverage instrumentation into `.build-fuzz`. Kept out of the main package
// so that its normal build and tests never compile it.
import Foundation
import PackageDescription

/// A path dependency's identity is its directory's name, which differs between worktrees and clones.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "HexfleetFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "HexfleetFuzz",
            dependencies: [
                .product(name: "Engine", package: root),
                .product(name: "EventLoop", package: root),
                .product(name: "HTTPServer", package: root),
                .product(name: "JSON", package: root),
                .product(name: "Routing", package: root),
                .product(name: "Dispatcher", package: root),
                .product(name: "FleetIndex", package: root),
                .product(name: "HexGeo", package: root),
                .product(name: "Vocabulary", package: root),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)

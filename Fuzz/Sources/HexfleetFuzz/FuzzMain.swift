import Foundation
import Glibc

/// One fuzz target: `setUp` runs once per process, `run` once per input and must return normally for any bytes
/// (a trap, sanitizer report or hang is a finding), `seeds` are the valid inputs the repo's corpus starts from.
struct FuzzTarget {
    let name: String
    var setUp: () -> Void = {}
    let run: (UnsafeRawBufferPointer) -> Void
    let seeds: () -> [(name: String, bytes: [UInt8])]
}

/// Every target; adding one is a `FuzzTarget` value and a line here.
let fuzzTargets: [FuzzTarget] = [
    udpTarget,
    httpTarget,
    webSocketTarget,
    pbfTarget,
    graphTarget,
    csvTarget,
    matchTarget,
    planTarget,
    mapMatchTarget,
    clusterTarget,
]

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The target this process runs (libFuzzer's callback is a C function pointer, so it cannot capture).
nonisolated(unsafe) var selectedTarget: FuzzTarget?

/// `HEXFLEET_FUZZ_TARGET=name hexfleet-fuzz [libFuzzer flags] [corpus dirs]` fuzzes one target;
/// `HEXFLEET_FUZZ_SEEDS=dir` writes every target's seeds under `dir/<target>/` and exits;
/// `HEXFLEET_FUZZ_LIST=1` prints the target names.
@main enum FuzzMain {
    static func main() {
        let env = ProcessInfo.processInfo.environment
        if env["HEXFLEET_FUZZ_LIST"] != nil {
            for t in fuzzTargets { print(t.name) }
            exit(0)
        }
        if let dir = env["HEXFLEET_FUZZ_SEEDS"] {
            writeSeeds(to: dir, only: env["HEXFLEET_FUZZ_TARGET"])
            exit(0)
        }
        guard let name = env["HEXFLEET_FUZZ_TARGET"], let target = fuzzTargets.first(where: { $0.name == name }) else {
            FileHandle.standardError.write(Data("set HEXFLEET_FUZZ_TARGET to one of: \(fuzzTargets.map(\.name).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        target.setUp()
        selectedTarget = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in
            selectedTarget!.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }))
    }

    static func writeSeeds(to dir: String, only: String?) {
        for target in fuzzTargets where only == nil || only == target.name {
            let folder = URL(fileURLWithPath: dir).appendingPathComponent(target.name)
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            target.setUp()
            for seed in target.seeds() {
                try? Data(seed.bytes).write(to: folder.appendingPathComponent(seed.name))
            }
            print("\(target.name): \(target.seeds().count) seeds")
        }
    }
}

/// Splits an input into length-prefixed parts (u16 little-endian length, then the bytes; a short last part takes
/// what is left), so one input can carry several datagrams or files.
func lengthPrefixedParts(_ bytes: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
    var parts: [UnsafeRawBufferPointer] = []
    var o = 0
    while o + 2 <= bytes.count {
        let n = Int(bytes[o]) | Int(bytes[o + 1]) << 8
        let end = min(bytes.count, o + 2 + n)
        parts.append(UnsafeRawBufferPointer(rebasing: bytes[(o + 2)..<end]))
        o = end
    }
    return parts
}

/// The inverse of `lengthPrefixedParts`, for seeds.
func lengthPrefixed(_ parts: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    for p in parts {
        out += [UInt8(p.count & 0xFF), UInt8(p.count >> 8)]
        out += p
    }
    return out
}

import Foundation

/// The repository's `fixtures/` folder (the demo's road data, default pricing), found from the working directory
/// or beside the repository the executable was built in.
enum Fixtures {
    /// The path of a fixture file, if one is found.
    static func path(_ name: String) -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/fixtures/" + name]
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("fixtures/" + name).path)
            dir.deleteLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}

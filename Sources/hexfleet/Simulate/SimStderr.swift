import Foundation

/// The simulator's human output: progress and live reports on stderr (stdout carries only the JSON line).
enum SimStderr {
    static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

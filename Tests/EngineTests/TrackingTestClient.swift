import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking WebSocket client over a raw TCP socket, for the tracking tests: RFC 6455 handshake,
/// masked client frames, unfragmented reads, close codes. Test-only; one thread uses it at a time.
final class TrackingTestClient {
    enum Frame: Equatable {
        case text(String)
        case binary([UInt8])
        case close(UInt16)
    }

    let fd: Int32
    /// The upgrade answer's status (101 when upgraded).
    private(set) var status = 0
    /// The body of a refused upgrade.
    private(set) var refusal = ""
    private var buffer: [UInt8] = []

    /// Connects to `path` on 127.0.0.1:`port` and performs the handshake; check `status` for refusals.
    /// With `receiveBufferBytes`, SO_RCVBUF is set before connecting, so the window is small from the start
    /// (shrinking it later makes Linux prune data and back off retransmissions for seconds).
    init(port: Int, path: String, headers: [(String, String)] = [], timeoutSeconds: Int = 5,
         receiveBufferBytes: Int32? = nil) throws {
        fd = try connectLoopback(port: port, timeoutSeconds: timeoutSeconds, receiveBufferBytes: receiveBufferBytes)
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try writeAll(fd, Array(head.utf8))
        let separator: [UInt8] = [13, 10, 13, 10]
        while buffer.firstRange(of: separator) == nil { guard try fill() else { throw LoopbackError.io("no answer") } }
        let end = buffer.firstRange(of: separator)!.upperBound
        let headText = String(decoding: buffer[..<end], as: UTF8.self)
        buffer.removeFirst(end)
        let parts = headText.split(separator: " ")
        status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        if status != 101 {
            if let lengthLine = headText.components(separatedBy: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
               let n = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) {
                while buffer.count < n { guard try fill() else { break } }
                refusal = String(decoding: buffer.prefix(n), as: UTF8.self)
            }
        }
    }

    deinit { close(fd) }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw LoopbackError.timeout }
        if n == 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    func send(text: String) throws { try sendFrame(opcode: 1, Array(text.utf8)) }
    func send(binary: [UInt8]) throws { try sendFrame(opcode: 2, binary) }

    func sendFrame(opcode: UInt8, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        try writeAll(fd, frame)
    }

    private func take(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { guard try fill() else { throw LoopbackError.io("closed mid-frame") } }
        let out = Array(buffer.prefix(n))
        buffer.removeFirst(n)
        return out
    }

    /// The next frame of any kind: its opcode and payload (server frames are unmasked).
    private func readRawFrame() throws -> (opcode: UInt8, payload: [UInt8]) {
        let h = try take(2)
        var length = Int(h[1] & 0x7F)
        if length == 126 { let b = try take(2); length = Int(b[0]) << 8 | Int(b[1]) }
        else if length == 127 { length = try take(8).reduce(0) { $0 << 8 | Int($1) } }
        return (h[0] & 0x0F, try take(length))
    }

    /// The next data or close frame (pongs and pings are skipped).
    func readFrame() throws -> Frame {
        while true {
            let (opcode, payload) = try readRawFrame()
            switch opcode {
            case 1: return .text(String(decoding: payload, as: UTF8.self))
            case 2: return .binary(payload)
            case 8: return .close(payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005)
            default: continue
            }
        }
    }

    /// Reads until the server's next ping frame (data frames in between are skipped); the ping's payload.
    func readPing() throws -> [UInt8] {
        while true {
            let (opcode, payload) = try readRawFrame()
            if opcode == 9 { return payload }
            if opcode == 8 { throw LoopbackError.io("closed while waiting for a ping") }
        }
    }

    /// The next text message parsed as a JSON object.
    func readJSON() throws -> [String: Any] {
        while true {
            switch try readFrame() {
            case .text(let t):
                return (try JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String: Any]) ?? [:]
            case .binary: continue
            case .close(let code): throw LoopbackError.io("closed with \(code)")
            }
        }
    }

    /// Reads JSON messages until one has `type` == `type`.
    func readJSON(type: String) throws -> [String: Any] {
        while true {
            let m = try readJSON()
            if m["type"] as? String == type { return m }
        }
    }

    /// Reads until the server's close frame; its code.
    func readClose() throws -> UInt16 { try readCloseFrame().code }

    /// Reads until the server's close frame (data, pings and pongs before it are skipped); its code and reason.
    func readCloseFrame() throws -> (code: UInt16, reason: String) {
        while true {
            let (opcode, payload) = try readRawFrame()
            guard opcode == 8 else { continue }
            guard payload.count >= 2 else { return (1005, "") }
            return (UInt16(payload[0]) << 8 | UInt16(payload[1]), String(decoding: payload[2...], as: UTF8.self))
        }
    }

    /// Reads and drops bytes until the server closes the socket; throws when the read times out first.
    func readUntilClosed() throws {
        buffer.removeAll()
        while try fill() { buffer.removeAll() }
    }

    /// Whether bytes already read from the socket wait in the client's buffer (a `poll` on `fd` would miss them).
    var hasBufferedBytes: Bool { !buffer.isEmpty }
}

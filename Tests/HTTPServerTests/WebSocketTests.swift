import EventLoop
import Foundation
import HTTPServer
import Synchronization
import Testing

private func echo(_ server: HTTPServer) {
    server.addWebSocketEchoRoute("/v1/ws/echo")
    // An echo under the server's own limits (the echo route above carries Autobahn-sized ones).
    server.addWebSocketRoute("/strict") { connection, _ in
        connection.onText = { [unowned connection] in connection.send(text: $0) }
        connection.onBinary = { [unowned connection] in connection.send(binary: $0) }
    }
    server.addWebSocketRoute("/private", accept: { request in
        request.query("token") == "good" ? nil : APIError(.unauthorized, "bad token")
    }) { connection, _ in connection.onText = { [unowned connection] in connection.send(text: "private " + $0) } }
}

@Suite("WebSocket on 127.0.0.1")
struct WebSocketTests {
    @Test("the accept value follows RFC 6455's example and malformed keys are refused")
    func acceptValue() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(WebSocketHandshake.acceptValue(forKey: "short") == nil)
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ") == nil)
    }

    @Test("the handshake answers 101 with the accept header; the accept hook can refuse an upgrade")
    func handshake() throws {
        let (result, stats) = try withServer(setup: echo) { port in
            let ok = try RawClient(port: port)
            let r = try ok.upgrade(path: "/v1/ws/echo")
            let refused = try RawClient(port: port)
            let r2 = try refused.upgrade(path: "/private?token=bad")
            let allowed = try RawClient(port: port)
            let r3 = try allowed.upgrade(path: "/private?token=good")
            allowed.sendFrame(opcode: 1, Array("hi".utf8))
            let reply = try allowed.readFrame()
            let missing = try RawClient(port: port)
            let r4 = try missing.upgrade(path: "/nowhere")
            return [r.status, r2.status, r3.status, r4.status, reply.payload == Array("private hi".utf8) ? 1 : 0,
                    r.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ? 1 : 0]
        }
        #expect(result == [101, 401, 101, 404, 1, 1])
        #expect(stats.webSocketUpgrades == 2)
    }

    @Test("text, binary and fragmented messages echo back whole; pings get pongs")
    func echoMessages() throws {
        let (frames, _) = try withServer(setup: echo) { port in
            let c = try RawClient(port: port)
            _ = try c.upgrade(path: "/v1/ws/echo")
            var out: [String] = []
            c.sendFrame(opcode: 1, Array("héllo".utf8))
            let t = try c.readFrame()
            out.append("\(t.opcode) \(String(decoding: t.payload, as: UTF8.self))")
            let blob = (0..<70_000).map { UInt8($0 & 0xFF) }
            c.sendFrame(opcode: 2, blob)
            let b = try c.readFrame()
            out.append("\(b.opcode) \(b.payload == blob)")
            c.sendFrame(opcode: 1, Array("frag".utf8), fin: false)
            c.sendFrame(opcode: 9, Array("mid".utf8))                 // a ping between fragments
            c.sendFrame(opcode: 0, Array("men".utf8), fin: false)
            c.sendFrame(opcode: 0, Array("ted".utf8), fin: true)
            let pong = try c.readFrame()
            out.append("\(pong.opcode) \(String(decoding: pong.payload, as: UTF8.self))")
            let f = try c.readFrame()
            out.append("\(f.opcode) \(f.fin) \(String(decoding: f.payload, as: UTF8.self))")
            c.sendFrame(opcode: 8, [0x03, 0xE8] + Array("bye".utf8))
            out.append("close \(try c.readUntilClose()) \(c.waitForClose())")
            return out
        }
        #expect(frames == ["1 héllo", "2 true", "10 mid", "1 true fragmented", "close 1000 true"])
    }

    @Test("protocol violations close with the right code", arguments: [
        ("bad UTF-8 text", UInt16(1007)),
        ("bad UTF-8 split across fragments", 1007),
        ("oversized message", 1009),
        ("reserved opcode", 1002),
        ("unmasked frame", 1002),
    ])
    func violations(name: String, code: UInt16) throws {
        var config = HTTPServerConfiguration()
        config.webSocket.maxMessageBytes = 1_000
        let (got, stats) = try withServer(configuration: config, setup: echo) { port in
            let c = try RawClient(port: port)
            _ = try c.upgrade(path: "/strict")
            switch name {
            case "bad UTF-8 text": c.sendFrame(opcode: 1, [0x68, 0xC3, 0x28])
            case "bad UTF-8 split across fragments":
                c.sendFrame(opcode: 1, [0x68, 0xF0, 0x9F], fin: false)
                c.sendFrame(opcode: 0, [0x28, 0x28], fin: true)
            case "oversized message": c.sendFrame(opcode: 2, [UInt8](repeating: 1, count: 2_000))
            case "reserved opcode": c.sendFrame(opcode: 3, [1])
            default: c.send([0x81, 0x02, 0x68, 0x69])   // no mask bit
            }
            return try c.readUntilClose()
        }
        #expect(got == code, "\(name)")
        #expect(stats.webSocketUpgrades == 1)
    }

    @Test("a client that never reads is evicted with 1013 while the server keeps serving others")
    func slowReaderEviction() throws {
        var config = HTTPServerConfiguration()
        config.webSocket.maxQueuedBytes = 1 << 20
        let evicted = Mutex(false)
        let flooder: (HTTPServer) -> Void = { server in
            let loop = server.loop   // not the server: a route closure holding it would form a cycle
            server.addWebSocketRoute("/flood") { connection, _ in
                let timer = try? EventLoop.Timer(loop: loop)
                let chunk = [UInt8](repeating: 0x42, count: 64 * 1024)
                connection.onClose = { _, _ in timer?.close() }
                try? timer?.start(afterMs: 1, repeatMs: 1) { [unowned connection] in
                    for _ in 0..<8 where !connection.send(binary: chunk) {
                        evicted.withLock { $0 = true }
                        timer?.close()
                        return
                    }
                }
            }
        }
        let (result, stats) = try withServer(configuration: config, routes: { r, _ in
            r.add(.get, "/healthz") { _, responder in responder.respond(.text("ok")) }
        }, setup: flooder) { port in
            let slow = try RawClient(port: port)
            slow.shrinkReceiveBuffer(bytes: 16 * 1024)
            _ = try slow.upgrade(path: "/flood")
            // Wait (with a deadline) until the server gave up on the client, without reading.
            let deadline = Date().addingTimeInterval(10)
            while !evicted.withLock({ $0 }) && Date() < deadline { usleep(1_000) }
            let other = try RawClient(port: port)
            other.send("GET /healthz HTTP/1.1\r\n\r\n")
            let health = try other.readResponse().status
            let code = try slow.readUntilClose()   // now drain: the close frame follows the queued data
            return (health, code, evicted.withLock { $0 })
        }
        #expect(result.2, "the server evicted the client")
        #expect(result.0 == 200, "the server stayed responsive")
        #expect(result.1 == 1013)
        #expect(stats.webSocketEvictions == 1)
    }

    @Test("an idle connection's wslay context is freed only between whole messages, and the next message still works")
    func parkingKeepsPartialInput() throws {
        var config = HTTPServerConfiguration()
        config.webSocket.closeTimeoutMs = 200   // sweeps every 50 ms
        let (echoes, stats) = try withServer(configuration: config, setup: echo) { port in
            let c = try RawClient(port: port)
            _ = try c.upgrade(path: "/v1/ws/echo")
            var echoes: [String] = []
            func readText() throws { echoes.append(String(decoding: try c.readFrame().payload, as: UTF8.self)) }
            c.sendFrame(opcode: 1, Array("a".utf8))
            try readText()
            usleep(300_000)   // clean: parked
            // Half a frame, a pause across several sweeps, the rest.
            let frame = RawClient.maskedFrame(opcode: 1, Array("hello world".utf8))
            c.send(Array(frame[..<9]))
            usleep(300_000)
            c.send(Array(frame[9...]))
            try readText()
            // One byte of a header.
            let next = RawClient.maskedFrame(opcode: 2, Array("bin".utf8))
            c.send([next[0]])
            usleep(300_000)
            c.send(Array(next[1...]))
            try readText()
            // A fragmented message, paused between its fragments.
            c.sendFrame(opcode: 1, Array("frag-".utf8), fin: false)
            usleep(300_000)
            c.sendFrame(opcode: 0, Array("ment".utf8))
            try readText()
            usleep(300_000)
            c.sendFrame(opcode: 8, [0x03, 0xE8])
            _ = try c.readUntilClose()
            return echoes
        }
        #expect(echoes == ["a", "hello world", "bin", "frag-ment"])
        #expect(stats.webSocketParks >= 2)
        #expect(stats.webSocketProtocolErrors == 0)
    }

    @Test("closing a parked connection sends the close frame, refuses later sends and ends when the peer answers")
    func closeWhileParked() throws {
        let seen = Mutex<[String]>([])
        let (result, stats) = try withServer(setup: { server in
            let loop = server.loop   // not the server: a route closure holding it would form a cycle
            server.addWebSocketRoute("/c") { connection, _ in
                let timer = try? EventLoop.Timer(loop: loop)
                connection.onText = { [unowned connection] in connection.send(text: $0) }
                connection.onClose = { code, _ in
                    seen.withLock { $0.append("closed \(code)") }
                    timer?.close()
                }
                // Long after the echo below parked the connection (it parks as soon as the echo is out).
                try? timer?.start(afterMs: 300) { [unowned connection] in
                    connection.close(code: 4001, reason: "bye")
                    let open = connection.isOpen, sent = connection.send(text: "late")
                    seen.withLock { $0.append("open \(open) sent \(sent)") }
                }
            }
        }) { port in
            let c = try RawClient(port: port)
            _ = try c.upgrade(path: "/c")
            c.sendFrame(opcode: 1, Array("a".utf8))
            let echo = String(decoding: try c.readFrame().payload, as: UTF8.self)
            let close = try c.readFrame()
            c.sendFrame(opcode: 8, [0x03, 0xE8])
            let code = UInt16(close.payload[0]) << 8 | UInt16(close.payload[1])
            return "\(echo) \(close.opcode) \(code) \(String(decoding: close.payload[2...], as: UTF8.self)) "
                + "\(c.waitForClose())"
        }
        #expect(result == "a 8 4001 bye true")
        #expect(seen.withLock { $0 } == ["open false sent false", "closed 1000"])
        #expect(stats.webSocketParks == 1, "parked after the echo, never after the close began")
        #expect(stats.webSocketProtocolErrors == 0)
    }

    @Test("a close that starts while a fragmented message is in progress drops the partial message and completes")
    func closeDuringFragmentedMessage() throws {
        var config = HTTPServerConfiguration()
        config.webSocket.idleTimeoutMs = 200   // the server's close comes from the idle timeout
        let seen = Mutex<[String]>([])
        let (result, stats) = try withServer(configuration: config, setup: { server in
            server.addWebSocketRoute("/c") { connection, _ in
                connection.onText = { text in seen.withLock { $0.append("text \(text)") } }
                connection.onClose = { code, _ in seen.withLock { $0.append("closed \(code)") } }
            }
        }) { port in
            let c = try RawClient(port: port)
            _ = try c.upgrade(path: "/c")
            c.sendFrame(opcode: 1, Array("frag-".utf8), fin: false)
            let code = try c.readUntilClose()
            c.sendFrame(opcode: 8, [0x03, 0xE8])
            return "\(code) \(c.waitForClose())"
        }
        #expect(result == "1001 true")
        #expect(seen.withLock { $0 } == ["closed 1000"])
        #expect(stats.webSocketParks == 0, "a fragmented message in progress keeps the context")
        #expect(stats.webSocketProtocolErrors == 0)
    }

    @Test("an idle WebSocket is closed with 1001")
    func idleTimeout() throws {
        var config = HTTPServerConfiguration()
        config.webSocket.idleTimeoutMs = 100
        let (code, _) = try withServer(configuration: config, setup: echo) { port in
            let c = try RawClient(port: port)
            _ = try c.upgrade(path: "/v1/ws/echo")
            return try c.readUntilClose()
        }
        #expect(code == 1001)
    }

    @Test("onClose reports the peer's code and reason, and user data is released")
    func closeCallback() throws {
        let seen = Mutex<(UInt16, String)>((0, ""))
        final class Session {}
        weak var session: Session?
        let (_, _) = try withServer(setup: { server in
            server.addWebSocketRoute("/c") { connection, _ in
                let s = Session()
                session = s
                connection.userData = s
                connection.onClose = { code, reason in seen.withLock { $0 = (code, reason) } }
            }
        }) { port in
            let c = try RawClient(port: port)
            _ = try c.upgrade(path: "/c")
            c.sendFrame(opcode: 8, [0x0F, 0xA0] + Array("done".utf8))   // 4000
            _ = try c.readUntilClose()
            return c.waitForClose()
        }
        #expect(seen.withLock { $0.0 } == 4000)
        #expect(seen.withLock { $0.1 } == "done")
        #expect(session == nil)
    }
}

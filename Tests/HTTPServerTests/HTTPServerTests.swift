import EventLoop
import Foundation
import HTTPServer
import JSON
import Testing

private func echoRoutes(_ router: inout Router, _ loop: Loop) {
    router.add(.get, "/hello") { _, r in r.respond(.text("hello")) }
    router.add(.post, "/echo") { req, r in r.respond(HTTPResponse(status: 200, body: req.body)) }
    router.add(.get, "/v1/drivers/{id}") { req, r in
        r.respond(.json { w in
            w.beginObject()
            w.key("id"); w.string(req.parameter("id") ?? "")
            w.key("name"); w.string(req.query("name") ?? "")
            w.key("k"); w.string(req.query("k") ?? "")
            w.endObject()
        })
    }
    router.add(.get, "/v1/drivers/nearby") { _, r in r.respond(.text("nearby")) }
    router.add(.get, "/slow/{n}") { req, r in
        // Answers after a delay that shrinks with n, so later requests finish first.
        let n = Int(req.parameter("n") ?? "0") ?? 0
        let timer = try EventLoop.Timer(loop: loop)
        try timer.start(afterMs: UInt64(max(1, 40 - n * 10))) {
            timer.close()
            r.respond(.text("slow \(n)"))
        }
    }
    router.add(.post, "/orders") { req, r in
        // An asynchronous answer: a worker "commits", the loop answers 201 afterwards.
        let queue = WorkQueue(loop: loop)
        let size = req.body.count
        try queue.run(size, { $0 * 2 }) { doubled in
            r.respond(.json(status: 201) { w in w.beginObject(); w.key("committed"); w.number(doubled); w.endObject() })
        }
    }
    router.add(.get, "/throws") { _, _ in throw APIError(.conflict, "already taken") }
    router.add(.get, "/crashy") { _, _ in throw CocoaError(.fileNoSuchFile) }
    router.add(.get, "/forgets") { _, _ in }
}

@Suite("HTTP/1.1 server on 127.0.0.1")
struct HTTPServerTests {
    @Test("keep-alive serves several requests on one connection")
    func keepAlive() throws {
        let (statuses, stats) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            var out: [Int] = []
            for _ in 0..<3 {
                c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                let r = try c.readResponse()
                out.append(r.status)
                if r.text != "hello" { out.append(-1) }
            }
            return out
        }
        #expect(statuses == [200, 200, 200])
        #expect(stats.connectionsAccepted == 1)
        #expect(stats.requests == 3)
    }

    @Test("pipelined requests are answered in request order even when later ones finish first")
    func pipelining() throws {
        let (bodies, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send((0..<4).map { "GET /slow/\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined() + "GET /hello HTTP/1.1\r\n\r\n")
            return try (0..<5).map { _ in try c.readResponse().text }
        }
        #expect(bodies == ["slow 0", "slow 1", "slow 2", "slow 3", "hello"])
    }

    @Test("past maxPipelinedRequests the server stops reading, then resumes and answers everything in order")
    func pipelineBackpressure() throws {
        var config = HTTPServerConfiguration()
        config.maxPipelinedRequests = 2
        let (bodies, stats) = try withServer(configuration: config, routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            let requests = (0..<12).map { i in
                i % 3 == 0 ? "GET /slow/\(i % 4) HTTP/1.1\r\n\r\n" : "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\n\(i < 10 ? "0" : "")\(i)"
            }
            c.send(requests.joined())
            return try (0..<12).map { _ in try c.readResponse().text }
        }
        let expected = (0..<12).map { i in i % 3 == 0 ? "slow \(i % 4)" : (i < 10 ? "0\(i)" : "\(i)") }
        #expect(bodies == expected)
        #expect(stats.requests == 12)
    }

    @Test("connections past maxConnections are refused and counted")
    func connectionLimit() throws {
        var config = HTTPServerConfiguration()
        config.maxConnections = 1
        let (result, stats) = try withServer(configuration: config, routes: echoRoutes) { port in
            let first = try RawClient(port: port)
            first.send("GET /hello HTTP/1.1\r\n\r\n")
            _ = try first.readResponse()
            let second = try RawClient(port: port)
            return second.waitForClose()
        }
        #expect(result)
        #expect(stats.connectionsRefused == 1)
    }

    @Test("a request sent one byte at a time parses the same")
    func byteByByte() throws {
        let (text, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            for b in Array("POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde".utf8) { c.send([b]) }
            return try c.readResponse().text
        }
        #expect(text == "abcde")
    }

    @Test("chunked request bodies arrive de-chunked")
    func chunked() throws {
        let (text, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n")
            return try c.readResponse().text
        }
        #expect(text == "hello, world")
    }

    @Test("oversized heads get 431, oversized bodies 413, and the connection closes")
    func limits() throws {
        var config = HTTPServerConfiguration()
        config.maxHeaderBytes = 1024
        config.maxBodyBytes = 100
        let (results, stats) = try withServer(configuration: config, routes: echoRoutes) { port in
            var out: [(Int, String, Bool)] = []
            let big = try RawClient(port: port)
            big.send("GET /hello HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n")
            let r1 = try big.readResponse()
            out.append((r1.status, r1.headers["connection"] ?? "", big.waitForClose()))
            let body = try RawClient(port: port)
            body.send("POST /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n")
            let r2 = try body.readResponse()
            out.append((r2.status, r2.headers["connection"] ?? "", body.waitForClose()))
            let chunked = try RawClient(port: port)
            chunked.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n\(String(repeating: "b", count: 64))\r\n40\r\n\(String(repeating: "b", count: 64))\r\n0\r\n\r\n")
            let r3 = try chunked.readResponse()
            out.append((r3.status, try JSONReader.parse(r3.body)["error"]?["code"]?.string ?? "", chunked.waitForClose()))
            return out.map { "\($0.0) \($0.1) \($0.2)" }
        }
        #expect(results == ["431 close true", "413 close true", "413 payload_too_large true"])
        #expect(stats.oversizedRequests == 3)
    }

    @Test("a refused body that keeps arriving still lets the client read the 413 (lingering close, no RST)")
    func lingeringClose() throws {
        var config = HTTPServerConfiguration()
        config.maxBodyBytes = 100
        let (status, _) = try withServer(configuration: config, routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send("POST /echo HTTP/1.1\r\nContent-Length: 400000\r\n\r\n")
            c.send([UInt8](repeating: 0x61, count: 400_000))
            let r = try c.readResponse()
            c.shutdownWrite()
            return (r.status, c.waitForClose())
        }
        #expect(status.0 == 413)
        #expect(status.1)
    }

    @Test("malformed requests get 400 and a closed connection", arguments: [
        "GET /hello HTTP/1.1\r\nHost x\r\n\r\n",
        "BLAH\r\n\r\n",
        "GET /hello HTTP/9.9\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /v1/drivers/1?name=%zz HTTP/1.1\r\nConnection: close\r\n\r\n",
    ])
    func malformed(request: String) throws {
        let (result, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send(request)
            let r = try c.readResponse()
            return (r.status, c.waitForClose())
        }
        #expect(result.0 == 400)
        #expect(result.1)
    }

    @Test("a slow request head gets 408; an idle keep-alive connection is closed")
    func timeouts() throws {
        var config = HTTPServerConfiguration()
        config.headerTimeoutMs = 150
        config.idleTimeoutMs = 150
        let (result, stats) = try withServer(configuration: config, routes: echoRoutes) { port in
            let slow = try RawClient(port: port)
            slow.send("GET /hello HTTP/1.1\r\nHost: x\r\n")   // never finishes the head
            let r = try slow.readResponse()
            let idle = try RawClient(port: port)
            idle.send("GET /hello HTTP/1.1\r\n\r\n")
            _ = try idle.readResponse()
            return (r.status, slow.waitForClose(), idle.waitForClose())
        }
        #expect(result.0 == 408)
        #expect(result.1 && result.2)
        #expect(stats.timeouts == 2)
    }

    @Test("a body that arrives in a later read than its head does not restart the head's timer: the kept-alive connection idles without a 408 and serves the next request")
    func bodyInALaterReadKeepsTheConnection() throws {
        var config = HTTPServerConfiguration()
        config.headerTimeoutMs = 150
        config.idleTimeoutMs = 10_000
        let (result, stats) = try withServer(configuration: config, routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.05)   // the body in a read of its own
            c.send("ping")
            let first = try c.readResponse()
            Thread.sleep(forTimeInterval: 0.6)    // idle past the head timeout, well within the idle one
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let second = try c.readResponse()
            return (first.status, first.text, second.status, second.text)
        }
        #expect(result.0 == 200 && result.1 == "ping")
        #expect(result.2 == 200 && result.3 == "hello", "an unsolicited 408 answered the next request instead")
        #expect(stats.timeouts == 0)
    }

    @Test("the timeout sweep, a slice at a time, reaches every idle connection while others close around it")
    func slicedSweepReachesEveryConnection() throws {
        // 60 keep-alive connections under a 2 s idle limit: 20 go idle at once; 20 busy and 20 more keep sending
        // requests (one every few ms) until the sweep has timed out the first idle one. Then the busy ones close,
        // so their slots are refilled mid-round, and the last 20 go idle, to be reached by later rounds. Nothing
        // has to happen within a window except a talking connection's next request, due within 2 s and sent
        // within milliseconds; the waits are conditions with deadlines.
        var config = HTTPServerConfiguration()
        config.idleTimeoutMs = 2_000
        // The guard is well past the ~7 s this takes, so a slow machine is not cut off mid-test.
        let (outcome, stats) = try withServer(configuration: config, guardMs: 90_000, routes: echoRoutes) { port in
            var busy: [RawClient] = [], idleFirst: [RawClient] = [], idleLater: [RawClient] = []
            for i in 0..<60 {
                let c = try RawClient(port: port, receiveTimeoutMs: 15_000)
                c.send("GET /hello HTTP/1.1\r\n\r\n")
                _ = try c.readResponse()
                switch i % 3 {
                case 0: busy.append(c)
                case 1: idleFirst.append(c)
                default: idleLater.append(c)
                }
            }
            let deadline = Date().addingTimeInterval(12)
            var passes = 0
            while !idleFirst.contains(where: { $0.isClosedByPeer() }) && Date() < deadline {
                for c in busy + idleLater {
                    c.send("GET /hello HTTP/1.1\r\n\r\n")
                    _ = try c.readResponse()
                }
                passes += 1
            }
            let sweepReachedIdle = idleFirst.contains { $0.isClosedByPeer() }
            for c in busy { c.shutdownWrite() }
            let busyClosed = busy.map { $0.waitForClose() }
            return (sweepReachedIdle, passes, (idleFirst + idleLater).map { $0.waitForClose() }, busyClosed)
        }
        let (sweepReachedIdle, passes, idleClosed, busyClosed) = outcome
        #expect(sweepReachedIdle, "no idle connection timed out within 12 s")
        #expect(passes > 0, "the talking connections kept talking while the first ones went idle")
        #expect(idleClosed.count == 40 && idleClosed.allSatisfy { $0 }, "the server closed every idle connection")
        #expect(busyClosed.count == 20 && busyClosed.allSatisfy { $0 })
        #expect(stats.timeouts == 40, "exactly the idle connections timed out; the busy ones closed themselves")
    }

    @Test("a handler may answer later, after work on another thread")
    func asyncResponder() throws {
        let (r, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send("POST /orders HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd")
            return try c.readResponse()
        }
        #expect(r.status == 201)
        #expect(try JSONReader.parse(r.body)["committed"]?.int64 == 8)
    }

    @Test("path parameters and query strings are percent-decoded; literals beat parameters")
    func routing() throws {
        let (results, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send("GET /v1/drivers/a%2Fb?name=J%C3%BCrgen+M&k=3&k=4 HTTP/1.1\r\n\r\n")
            let r1 = try JSONReader.parse(try c.readResponse().body)
            c.send("GET /v1/drivers/nearby HTTP/1.1\r\n\r\n")
            let r2 = try c.readResponse().text
            c.send("DELETE /v1/drivers/7 HTTP/1.1\r\n\r\n")
            let r3 = try c.readResponse()
            c.send("GET /nope HTTP/1.1\r\n\r\n")
            let r4 = try c.readResponse().status
            c.send("TRACE /echo HTTP/1.1\r\n\r\n")
            let r5 = try c.readResponse()
            return [r1["id"]?.string ?? "", r1["name"]?.string ?? "", r1["k"]?.string ?? "", r2, "\(r3.status)", "\(r4)",
                    r3.headers["allow"] ?? "no Allow", "\(r5.status)", r5.headers["allow"] ?? "no Allow"]
        }
        // A 405 names the methods the path has in `Allow` (RFC 9110 §15.5.6); HEAD comes with GET.
        #expect(results == ["a/b", "Jürgen M", "3", "nearby", "405", "404", "GET, HEAD", "405", "POST"])
    }

    @Test("handler errors become JSON errors and never take the server down")
    func handlerErrors() throws {
        let (results, stats) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            var out: [String] = []
            for path in ["/throws", "/crashy", "/forgets", "/hello"] {
                c.send("GET \(path) HTTP/1.1\r\n\r\n")
                let r = try c.readResponse()
                out.append("\(r.status) \(r.status == 200 ? r.text : try JSONReader.parse(r.body)["error"]?["code"]?.string ?? "")")
            }
            return out
        }
        #expect(results == ["409 conflict", "500 internal_error", "500 internal_error", "200 hello"])
        #expect(stats.handlerErrors == 1)
    }

    @Test("Connection: close ends the connection after the answer; HEAD sends no body")
    func connectionClose() throws {
        let (result, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send("HEAD /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\n\r\n")
            let head = try c.readResponse(isHead: true)   // Content-Length 5 but no body follows
            let next = try c.readResponse()
            return (head.headers["content-length"], next.text, c.waitForClose())
        }
        #expect(result.0 == "5")
        #expect(result.1 == "hello", "the HEAD answer carried no body bytes")
        #expect(result.2)
        let (closing, _) = try withServer(routes: echoRoutes) { port in
            let c = try RawClient(port: port)
            c.send("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\n\r\n")
            let r = try c.readResponse()
            return (r.headers["connection"], r.text, c.waitForClose())
        }
        #expect(closing.0 == "close")
        #expect(closing.1 == "hello")
        #expect(closing.2, "the second request is ignored and the connection closes")
    }
}

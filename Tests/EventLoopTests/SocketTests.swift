import EventLoop
import Foundation
import Testing

@Suite("UDP and TCP on 127.0.0.1")
struct SocketTests {
    @Test("datagrams arrive whole with their sender, through the recvmmsg slab")
    func udpRoundTrip() throws {
        let loop = try Loop()
        try watchdog(loop)
        let server = try UDPSocket(loop: loop)
        let address = try server.bind(host: "127.0.0.1", port: 0)
        #expect(address.port != 0)
        #expect(server.usesRecvmmsg)
        let granted = try server.setReceiveBuffer(bytes: 1 << 20)
        #expect(granted > 0)
        let client = try UDPSocket(loop: loop)
        let clientAddress = try client.bind(host: "127.0.0.1", port: 0)
        var payloads: [[UInt8]] = []
        var senderPorts = Set<Int>()
        let count = 200
        try server.startReceiving { datagram in
            payloads.append(Array(datagram.bytes))
            senderPorts.insert(Int(SocketAddress(datagram.sender).port))
            if payloads.count == count { loop.shutdown() }
        }
        for i in 0..<count {
            let size = 1 + (i * 37) % 1_400
            try client.send([UInt8](repeating: UInt8(i & 0xff), count: size), to: address)
        }
        loop.run()
        #expect(payloads.count == count)
        #expect(payloads.enumerated().allSatisfy { i, p in p.count == 1 + (i * 37) % 1_400 && p.allSatisfy { $0 == UInt8(i & 0xff) } })
        #expect(senderPorts == [clientAddress.port])
        #expect(server.truncatedDatagrams == 0)
    }

    @Test("a TCP echo round trip with half-close: the server sees EOF after the data and answers before closing")
    func tcpEcho() throws {
        let loop = try Loop()
        try watchdog(loop)
        let server = try TCPServer(loop: loop)
        let address = try server.bind(host: "127.0.0.1", port: 0)
        var serverGotEnd = false
        try server.listen { connection in
            connection.startReading(onEnd: {
                serverGotEnd = true
                connection.shutdownWrite(thenClose: true)
            }) { bytes in connection.write(bytes) }
        }
        let message = [UInt8]((0..<200_000).map { UInt8($0 % 251) })
        var echoed: [UInt8] = []
        var clientClosed = false
        let client = try TCPConnection.connect(loop: loop, to: address) { connection, error in
            #expect(error == nil)
            connection.write(message)
            connection.shutdownWrite()
            connection.startReading { echoed.append(contentsOf: $0) }
        }
        client.onClose {
            clientClosed = true
            loop.shutdown()
        }
        loop.run()
        #expect(serverGotEnd)
        #expect(clientClosed)
        #expect(echoed == message)
    }

    @Test("writes past what the kernel takes queue in order and are counted in queuedBytes")
    func tcpQueuedBytes() throws {
        let loop = try Loop()
        try watchdog(loop)
        let server = try TCPServer(loop: loop)
        let address = try server.bind(host: "127.0.0.1", port: 0)
        var peak = 0
        var drained = false
        let chunk = [UInt8](repeating: 7, count: 64 * 1024)
        try server.listen { connection in
            for _ in 0..<64 { connection.write(chunk) }   // 4 MiB to a client that does not read yet
            peak = connection.queuedBytes
            connection.onDrained = {
                drained = true
                connection.close()
            }
        }
        var received = 0
        let client = try TCPConnection.connect(loop: loop, to: address) { connection, _ in
            let timer = try? EventLoop.Timer(loop: loop)
            try? timer?.start(afterMs: 20) {
                timer?.close()
                connection.startReading { received += $0.count }
            }
        }
        client.onClose { loop.shutdown() }
        loop.run()
        #expect(peak > 0)
        #expect(drained)
        #expect(received == 64 * 64 * 1024)
    }

    @Test("staged writes of mixed sizes reach a slow reader byte for byte, and a half-close waits for them")
    func tcpStagedWritesInOrder() throws {
        let loop = try Loop()
        try watchdog(loop)
        let server = try TCPServer(loop: loop)
        let address = try server.bind(host: "127.0.0.1", port: 0)
        // 800 writes of 1…40,000 bytes (16 MB, more than the kernel buffers hold), each byte its write's index
        // mod 251 plus its offset: any reordering, loss or duplication changes the stream.
        var expected: [UInt8] = []
        var writes: [[UInt8]] = []
        for i in 0..<800 {
            let n = 1 + (i * 7919) % 40_000
            let w = [UInt8](unsafeUninitializedCapacity: n) { b, count in
                for k in 0..<n { b[k] = UInt8(truncatingIfNeeded: i % 251 &+ k) }
                count = n
            }
            writes.append(w)
            expected += w
        }
        var peak = 0
        try server.listen { connection in
            for w in writes { connection.write(w) }
            peak = connection.queuedBytes
            connection.shutdownWrite(thenClose: true)   // FIN only after every staged byte
        }
        var received: [UInt8] = []
        let client = try TCPConnection.connect(loop: loop, to: address) { connection, _ in
            let timer = try? EventLoop.Timer(loop: loop)
            try? timer?.start(afterMs: 50) {
                timer?.close()
                connection.startReading(onEnd: { connection.close() }) { received += $0 }
            }
        }
        client.onClose { loop.shutdown() }
        loop.run()
        #expect(peak > 0, "the test must queue: the reader starts late")
        #expect(received.count == expected.count)
        // Compared as a Bool with the first difference named: a failure must not print 16 MB.
        let firstDifference = zip(received, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "streams differ first at byte \(firstDifference ?? -1)")
    }
}

import EventLoop
import Foundation
import Testing

/// Sends `payloads` (all but the last the same size) as one UDP_SEGMENT send from a plain socket: the kernel keeps
/// them as one train, so a receiver with UDP GRO gets them in one buffer. Returns false where the kernel refuses.
private func sendSegmented(_ payloads: [[UInt8]], to port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var bytes = payloads.flatMap { $0 }
    // struct cmsghdr { size_t len; int level; int type; } then the u16 segment size, padded to CMSG_SPACE(2) = 24.
    var control = [UInt8](repeating: 0, count: 24)
    control.withUnsafeMutableBytes { c in
        c.storeBytes(of: 18, toByteOffset: 0, as: Int.self)             // CMSG_LEN(2)
        c.storeBytes(of: Int32(IPPROTO_UDP), toByteOffset: 8, as: Int32.self)   // SOL_UDP
        c.storeBytes(of: Int32(103), toByteOffset: 12, as: Int32.self)  // UDP_SEGMENT
        c.storeBytes(of: UInt16(payloads[0].count), toByteOffset: 16, as: UInt16.self)
    }
    let sent = bytes.withUnsafeMutableBytes { data in
        control.withUnsafeMutableBytes { c in
            withUnsafeMutablePointer(to: &address) { a in
                var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &vector) { v in
                    var message = msghdr(msg_name: UnsafeMutableRawPointer(a), msg_namelen: socklen_t(MemoryLayout<sockaddr_in>.size),
                                         msg_iov: v, msg_iovlen: 1, msg_control: c.baseAddress,
                                         msg_controllen: c.count, msg_flags: 0)
                    return sendmsg(fd, &message, 0)
                }
            }
        }
    }
    return sent == bytes.count
}

/// What this kernel offers, probed once on a throwaway loopback socket. The GRO tests are enabled only where both
/// hold, so a kernel that refuses them (Linux before 5.0, gVisor) shows them as skipped with this reason instead of
/// passing without having sent a train.
private enum Kernel {
    /// Whether a two-datagram UDP_SEGMENT (GSO) send to a loopback socket goes through.
    static let udpSegment: Bool = {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return bound && sendSegmented([[1, 1, 1, 1], [2, 2]], to: Int(UInt16(bigEndian: address.sin_port)))
    }()
    /// Whether a socket may turn on UDP_GRO (receive a train as one buffer).
    static let udpGRO: Bool = {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        return setsockopt(fd, Int32(IPPROTO_UDP), 104 /* UDP_GRO */, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
    }()
    static let trains = udpSegment && udpGRO
    static let noTrains: Comment = "this kernel refuses UDP_SEGMENT sends or UDP_GRO: no GRO train can be sent or received"
}

@Suite("UDPReceiver: recvmmsg batches and UDP GRO on 127.0.0.1")
struct UDPReceiverTests {
    @Test("plain datagrams of every size arrive whole, in order, with their sender")
    func plainDatagrams() throws {
        let loop = try Loop()
        try watchdog(loop)
        let receiver = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: "127.0.0.1", port: 0))
        let address = try receiver.localAddress()
        #expect(address.port != 0)
        #expect(try receiver.setReceiveBuffer(bytes: 1 << 20) > 0)
        let client = try UDPSocket(loop: loop)
        let clientAddress = try client.bind(host: "127.0.0.1", port: 0)
        var payloads: [[UInt8]] = []
        var senders = Set<Int>()
        let count = 300   // more than one recvmmsg batch of 64
        try receiver.startReceiving { d in
            payloads.append(Array(d.bytes))
            senders.insert(SocketAddress(d.sender).port)
            if payloads.count == count { loop.shutdown() }
        }
        for i in 0..<count { try client.send([UInt8](repeating: UInt8(i & 0xff), count: 1 + (i * 53) % 1_400), to: address) }
        loop.run()
        #expect(payloads.count == count)
        #expect(payloads.enumerated().allSatisfy { i, p in p.count == 1 + (i * 53) % 1_400 && p.allSatisfy { $0 == UInt8(i & 0xff) } })
        #expect(senders == [clientAddress.port])
        #expect(receiver.receivedDatagrams == UInt64(count))
        #expect(receiver.truncatedDatagrams == 0)
    }

    @Test("a segmented train (last datagram shorter) is split back into its datagrams, with GRO on and off",
          .enabled(if: Kernel.trains, Kernel.noTrains), arguments: [true, false])
    func segmentedTrain(gro: Bool) throws {
        let loop = try Loop()
        try watchdog(loop)
        let receiver = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: "127.0.0.1", port: 0), gro: gro)
        let port = try receiver.localAddress().port
        // 40 datagrams of 80 bytes (one-record pings are 80) and a last one of 48, each filled with its number.
        let train = (0..<41).map { i in [UInt8](repeating: UInt8(i), count: i == 40 ? 48 : 80) }
        var got: [[UInt8]] = []
        try receiver.startReceiving { d in
            got.append(Array(d.bytes))
            if got.count == train.count { loop.shutdown() }
        }
        let sent = sendSegmented(train, to: port)
        #expect(sent, "the probe saw UDP_SEGMENT work, but this send was refused")
        if !sent { loop.shutdown() }
        loop.run()
        #expect(got == train)
        #expect(receiver.usesGRO == gro)
        // With GRO the train arrived as at least one buffer of several segments; without, as single datagrams.
        if gro { #expect(receiver.coalescedBuffers >= 1) } else { #expect(receiver.coalescedBuffers == 0) }
        #expect(receiver.receivedDatagrams == UInt64(train.count))
    }

    @Test("beforeBatch sees every datagram once, in order, in windows of at most warmWindow, before each is delivered: 200 plain datagrams")
    func batchWindowsPlain() throws { try checkBatchWindows(train: false) }

    @Test("beforeBatch sees every datagram once, in order, in windows of at most warmWindow, before each is delivered: one GRO train of 100 split into windows, then 100 plain datagrams",
          .enabled(if: Kernel.trains, Kernel.noTrains))
    func batchWindowsTrain() throws { try checkBatchWindows(train: true) }

    /// 200 datagrams numbered 0…199 (the first 100 as one UDP_SEGMENT train with `train`) through `beforeBatch`.
    private func checkBatchWindows(train: Bool) throws {
        let loop = try Loop()
        try watchdog(loop)
        let receiver = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: "127.0.0.1", port: 0))
        let port = try receiver.localAddress().port
        var previewed: [UInt8] = [], delivered: [UInt8] = []
        var windows = 0, oversized = 0, deliveredBeforePreview = 0
        try receiver.startReceiving(beforeBatch: { batch in
            windows += 1
            if batch.datagrams.count > UDPReceiver.warmWindow { oversized += 1 }
            batch.forEach { previewed.append($0[0]) }
        }) { d in
            if delivered.count >= previewed.count { deliveredBeforePreview += 1 }
            delivered.append(d.bytes[0])
            if delivered.count == 200 { loop.shutdown() }
        }
        try sendNumbered(train: train, to: port, size: 64, loop: loop)
        loop.run()
        #expect(delivered == (0..<200).map { UInt8($0) })
        #expect(previewed == delivered)
        #expect(windows >= 200 / UDPReceiver.warmWindow)
        #expect(oversized == 0 && deliveredBeforePreview == 0)
        expectTrain(train, receiver)
    }

    @Test("window mode hands every datagram over once, in order, in windows of at most warmWindow: 200 plain datagrams")
    func windowModePlain() throws { try checkWindowMode(train: false) }

    @Test("window mode hands every datagram over once, in order, in windows of at most warmWindow: one GRO train of 100 split into windows, then 100 plain datagrams",
          .enabled(if: Kernel.trains, Kernel.noTrains))
    func windowModeTrain() throws { try checkWindowMode(train: true) }

    /// 200 datagrams numbered 0…199 (the first 100 as one UDP_SEGMENT train with `train`) through window mode.
    private func checkWindowMode(train: Bool) throws {
        let loop = try Loop()
        try watchdog(loop)
        let receiver = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: "127.0.0.1", port: 0))
        let port = try receiver.localAddress().port
        var delivered: [UInt8] = []
        var windows = 0, oversized = 0
        try receiver.startReceiving(windows: { window in
            windows += 1
            if window.datagrams.count > UDPReceiver.warmWindow || window.datagrams.isEmpty { oversized += 1 }
            for d in window.datagrams { delivered.append(d.bytes[0]) }
            if delivered.count == 200 { loop.shutdown() }
        })
        try sendNumbered(train: train, to: port, size: 48, loop: loop)
        loop.run()
        #expect(delivered == (0..<200).map { UInt8($0) })
        #expect(windows >= 200 / UDPReceiver.warmWindow && oversized == 0)
        #expect(receiver.receivedDatagrams == 200)
        expectTrain(train, receiver)
    }

    /// Sends datagrams 0…99 of `size` bytes (one UDP_SEGMENT train with `train`, else one by one), then 100…199 of
    /// one byte, each filled with its number. A refused train send records an issue and stops the loop.
    private func sendNumbered(train: Bool, to port: Int, size: Int, loop: Loop) throws {
        let first = (0..<100).map { [UInt8](repeating: UInt8($0), count: size) }
        let client = try UDPSocket(loop: loop)
        let address = try SocketAddress(host: "127.0.0.1", port: port)
        if train {
            guard sendSegmented(first, to: port) else {
                Issue.record("the probe saw UDP_SEGMENT work, but this send was refused")
                loop.shutdown()
                return
            }
        } else {
            for t in first { try client.send(t, to: address) }
        }
        for i in 100..<200 { try client.send([UInt8(i)], to: address) }
    }

    /// With `train`, the receiver turned GRO on and saw at least one buffer of several segments; without, none.
    private func expectTrain(_ train: Bool, _ receiver: UDPReceiver) {
        if train {
            #expect(receiver.usesGRO)
            #expect(receiver.coalescedBuffers >= 1, "the train did not arrive as a GRO buffer: no window split one")
        } else {
            #expect(receiver.coalescedBuffers == 0)
        }
    }

    @Test("closing frees the port and the receiver, and nothing is delivered after close")
    func closeReleases() throws {
        let loop = try Loop()
        try watchdog(loop)
        weak var weakReceiver: UDPReceiver?
        var port = 0
        do {
            let receiver = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            port = try receiver.localAddress().port
            try receiver.startReceiving { _ in Issue.record("no datagram was sent") }
            weakReceiver = receiver
            receiver.close()
        }
        loop.run()
        #expect(weakReceiver == nil)
        // The port is free again: a new receiver binds it.
        let again = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: "127.0.0.1", port: port))
        #expect(try again.localAddress().port == port)
        again.close()
        loop.run()
    }
}

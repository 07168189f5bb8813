import EventLoop
import Foundation
import Synchronization
import Testing

@Suite("Loop, timers, wake-ups, work and signals")
struct LoopTests {
    @Test("a one-shot timer fires once and a repeating timer fires until stopped")
    func timers() throws {
        let loop = try Loop()
        var once = 0, repeats = 0
        let oneShot = try EventLoop.Timer(loop: loop)
        try oneShot.start(afterMs: 1) { once += 1 }
        let repeating = try EventLoop.Timer(loop: loop)
        try repeating.start(afterMs: 1, repeatMs: 1) {
            repeats += 1
            if repeats == 5 { repeating.stop() }
        }
        loop.run()
        #expect(once == 1)
        #expect(repeats == 5)
        loop.shutdown()
    }

    @Test("messages sent from other threads all arrive on the loop, in each sender's order")
    func asyncWakeups() throws {
        let loop = try Loop()
        let threads = 4, perThread = 2_000
        var lastSeen = [Int](repeating: -1, count: threads)
        var received = 0, outOfOrder = 0, offLoop = 0
        let wakeup = try AsyncWakeup<(Int, Int)>(loop: loop) { message in
            if !loop.isOnLoop { offLoop += 1 }
            let (thread, sequence) = message
            if sequence != lastSeen[thread] + 1 { outOfOrder += 1 }
            lastSeen[thread] = sequence
            received += 1
            if received == threads * perThread { loop.shutdown() }
        }
        try watchdog(loop)
        let sender = wakeup.sender
        for t in 0..<threads {
            onThread { for i in 0..<perThread { sender.send((t, i)) } }
        }
        loop.run()
        #expect(received == threads * perThread)
        #expect(outOfOrder == 0)
        #expect(offLoop == 0)
        #expect(sender.send((0, 0)) == false, "a closed wakeup refuses messages")
    }

    @Test("work-queue jobs run off the loop and their results come back on it")
    func workQueue() throws {
        let loop = try Loop()
        let queue = WorkQueue(loop: loop)
        let loopThread = Thread.current.description
        var results: [Int: Int] = [:]
        var completionsOffLoop = 0
        let ranOffLoop = Atomic<Int>(0)
        for n in 1...20 {
            try queue.run(n, { n in
                if Thread.current.description != loopThread { ranOffLoop.add(1, ordering: .relaxed) }
                return (1...n).reduce(0, +)
            }) { sum in
                if !loop.isOnLoop { completionsOffLoop += 1 }
                results[n] = sum
            }
        }
        #expect(queue.pending == 20)
        loop.run()
        #expect(results.count == 20)
        #expect(results[20] == 210)
        #expect(completionsOffLoop == 0)
        #expect(ranOffLoop.load(ordering: .relaxed) == 20)
        #expect(queue.pending == 0)
        loop.shutdown()
    }

    @Test("a signal raised to the process reaches the watcher's callback on the loop")
    func signals() throws {
        let loop = try Loop()
        var got: Int32 = 0
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR1) { signal in
            got = signal
            loop.shutdown()
        }
        try watchdog(loop)
        let timer = try EventLoop.Timer(loop: loop)
        try timer.start(afterMs: 1) { kill(getpid(), SIGUSR1) }   // process-directed: any thread not blocking it takes it
        loop.run()
        #expect(got == SIGUSR1)
        #expect(watcher.isClosing)
    }

    @Test("shutdown closes every handle and releases every owner")
    func shutdownReleasesOwners() throws {
        let loop = try Loop()
        weak var timer: EventLoop.Timer?
        weak var udp: UDPSocket?
        weak var server: TCPServer?
        weak var wakeup: AsyncWakeup<Int>?
        do {
            let t = try EventLoop.Timer(loop: loop)
            try t.start(afterMs: 60_000) { _ = t }   // a cycle through the callback, broken on close
            timer = t
            let u = try UDPSocket(loop: loop)
            try u.bind(host: "127.0.0.1", port: 0)
            try u.startReceiving { _ in _ = u }
            udp = u
            let s = try TCPServer(loop: loop)
            try s.bind(host: "127.0.0.1", port: 0)
            try s.listen { $0.close() }
            server = s
            let w = try AsyncWakeup<Int>(loop: loop) { _ in }
            wakeup = w
        }
        try loop.startLagProbe(intervalMs: 10)
        #expect(timer != nil && udp != nil && server != nil && wakeup != nil, "libuv holds its reference until close")
        #expect(loop.isAlive)
        loop.shutdown()
        #expect(timer == nil)
        #expect(udp == nil)
        #expect(server == nil)
        #expect(wakeup == nil)
        #expect(!loop.isAlive)
        try loop.close()
    }

    @Test("the lag probe measures a loop blocked by a callback")
    func lagProbe() throws {
        let loop = try Loop()
        let probe = try loop.startLagProbe(intervalMs: 5)
        let blocker = try EventLoop.Timer(loop: loop)
        var ticks = 0
        try blocker.start(afterMs: 1, repeatMs: 5) {
            ticks += 1
            if ticks == 3 { usleep(60_000) }   // block the loop for 60 ms
            if ticks == 10 { loop.shutdown() }
        }
        loop.run()
        #expect(probe.samples > 0)
        #expect(probe.takeMaxLagNs() >= 30_000_000, "a 60 ms stall shows as at least 30 ms of lag")
    }

    @Test("libuv errors carry their code and name")
    func uvErrors() throws {
        let loop = try Loop()
        let first = try TCPServer(loop: loop)
        let address = try first.bind(host: "127.0.0.1", port: 0)
        try first.listen { $0.close() }
        let second = try TCPServer(loop: loop)
        do {
            try second.bind(address)
            try second.listen { $0.close() }
            Issue.record("binding a port in use succeeded")
        } catch {
            #expect(error.code == UVError.addressInUse.code)
            #expect(error.name == "EADDRINUSE")
        }
        #expect(throws: UVError.self) { try SocketAddress(host: "not-an-ip", port: 1) }
        #expect(try SocketAddress.parse("127.0.0.1:8080").port == 8080)
        #expect(try SocketAddress.parse("[::1]:9").description == "[::1]:9")
        loop.shutdown()
    }
}

@Suite("Dedicated worker threads")
struct WorkerThreadTests {
    @Test("jobs on dedicated threads come back on the loop, and stop ends the threads")
    func dedicatedThreads() throws {
        let loop = try Loop()
        let queue = try WorkQueue(loop: loop, dedicatedThreads: 2)
        var results: [Int] = []
        var offLoop = 0
        for n in 0..<50 {
            try queue.run(n, { $0 * $0 }) { square in
                if !loop.isOnLoop { offLoop += 1 }
                results.append(square)
            }
        }
        #expect(queue.pending == 50)
        loop.run()   // the pending jobs keep the loop alive until their completions ran
        #expect(results.sorted() == (0..<50).map { $0 * $0 })
        #expect(offLoop == 0)
        #expect(queue.pending == 0)
        queue.stop()
        loop.shutdown()
        #expect(!loop.isAlive)
    }
}

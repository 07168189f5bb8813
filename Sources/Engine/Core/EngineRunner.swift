import EventLoop
import Foundation
import Logging
import Synchronization

/// Runs an engine on a loop thread of its own: `serve` runs it on the main thread; tests and the benchmark
/// harness start it on a background thread and talk to it only through its sockets.
public final class EngineRunner: Sendable {
    /// Where the engine listens, once started.
    public struct Endpoints: Sendable {
        public let httpPort: Int
        public let udpPort: Int
    }

    private let stopSender: Mutex<AsyncSender<Void>?> = Mutex(nil)
    private let finished = DispatchSemaphore(value: 0)

    private init() {}

    /// Builds and runs an engine on the calling thread until SIGINT/SIGTERM or `stop()`; returns after every
    /// handle closed. `ready` runs on the loop once the listeners are bound.
    public static func runHere(_ configuration: EngineConfiguration, logger: Logger = Logger(label: "hexfleet.engine"),
                               setup: (Engine) throws -> Void = { _ in },
                               ready: (Engine) -> Void = { _ in }) throws {
        let runner = EngineRunner()
        try runner.run(configuration, logger: logger, handleSignals: true, setup: setup, ready: ready)
    }

    /// Starts an engine on a new thread and returns once it listens (or throws what start-up threw).
    public static func startInBackground(_ configuration: EngineConfiguration,
                                         setup: @escaping @Sendable (Engine) throws -> Void = { _ in }) throws -> (EngineRunner, Endpoints) {
        let runner = EngineRunner()
        let result = Mutex<Result<Endpoints, any Error>?>(nil)
        let started = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                try runner.run(configuration, logger: Logger(label: "hexfleet.test"), handleSignals: false, setup: setup) { engine in
                    result.withLock { $0 = .success(Endpoints(httpPort: engine.httpAddress!.port, udpPort: engine.udpAddress!.port)) }
                    started.signal()
                }
            } catch {
                result.withLock { if $0 == nil { $0 = .failure(error) } }
                started.signal()
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
        started.wait()
        let endpoints = try result.withLock { $0! }.get()
        return (runner, endpoints)
    }

    /// Asks the engine to stop (from any thread) and waits until its loop has closed every handle.
    public func stop() {
        _ = stopSender.withLock { $0?.send(()) }
        finished.wait()
        finished.signal()
    }

    private func run(_ configuration: EngineConfiguration, logger: Logger, handleSignals: Bool,
                     setup: (Engine) throws -> Void, ready: (Engine) -> Void) throws {
        defer { finished.signal() }
        let loop = try Loop()
        var watchers: [SignalWatcher] = []
        var engine: Engine?
        var wake: AsyncWakeup<Void>?
        // Stopping closes the runner's own handles too, so the loop can run to empty.
        let shutdown = {
            engine?.stop()
            wake?.close()
            for w in watchers { w.close() }
        }
        wake = try AsyncWakeup<Void>(loop: loop) { _ in shutdown() }
        do {
            let built = try Engine(configuration: configuration, loop: loop, logger: logger)
            engine = built
            try setup(built)
            try built.start()
        } catch {
            shutdown()
            loop.shutdown()
            throw error
        }
        wake?.keepsLoopAlive = false
        stopSender.withLock { $0 = wake?.sender }
        if handleSignals {
            for sig in [SIGINT, SIGTERM] {
                let w = try SignalWatcher(loop: loop, signal: sig) { _ in shutdown() }
                w.keepsLoopAlive = false
                watchers.append(w)
            }
        }
        ready(engine!)
        loop.run()
        loop.shutdown()
    }
}

import Testing
@testable import Engine

private let ms: UInt64 = 1_000_000
/// A loop clock reading well past zero, so the first request finds the interval long passed.
private let t0: UInt64 = 5_000 * ms

@Suite struct FanoutScheduleTests {
    @Test("on an idle hub a request goes out on the next loop iteration, and that wake-up starts the fan-out")
    func leadingEdge() {
        var s = FanoutSchedule(intervalNs: 50 * ms)
        var unscheduled: Bool
        var placement: FanoutSchedule.Placement
        var continuation: FanoutSchedule.Continuation
        var anotherOwed: Bool
        #expect(s.phase == .idle && !s.isSending)
        unscheduled = s.request()
        #expect(unscheduled)
        placement = s.place(nowNs: t0)
        #expect(placement == .nextIteration)
        #expect(s.phase == .startingNextIteration)
        unscheduled = s.request()
        #expect(!unscheduled, "a fan-out already owed takes the next request along")
        #expect(s.phase == .startingNextIteration)
        continuation = s.wakeupArrived()
        #expect(continuation == .newFanout)
        #expect(s.phase == .idle)
        s.started(atNs: t0 + 1)
        #expect(s.phase == .sending && s.isSending)
        continuation = s.wakeupArrived()
        #expect(continuation == .nextSlice)
        anotherOwed = s.finished()
        #expect(!anotherOwed)
        #expect(s.phase == .idle && !s.isSending)
    }

    @Test("a request sooner than the interval after the last start waits out the rest, in whole ms, at least 1")
    func waitsForInterval() {
        var s = FanoutSchedule(intervalNs: 50 * ms)
        var unscheduled: Bool
        var anotherOwed: Bool
        var placement: FanoutSchedule.Placement
        unscheduled = s.request()
        #expect(unscheduled)
        s.started(atNs: t0)
        anotherOwed = s.finished()
        #expect(!anotherOwed)
        for (now, wait) in [(t0, 50 * ms), (t0 + 10 * ms + 1, 40 * ms), (t0 + 50 * ms - 1, ms)] {
            unscheduled = s.request()
            #expect(unscheduled)
            placement = s.place(nowNs: now)
            #expect(placement == .afterMs(wait / ms), "at +\(now - t0) ns")
            #expect(s.phase == .idle, "idle until the hub says its timer is armed")
        }
        unscheduled = s.request()
        #expect(unscheduled)
        placement = s.place(nowNs: t0 + 50 * ms)
        #expect(placement == .nextIteration)
    }

    @Test("while the interval timer is armed requests and wake-ups change nothing; when it fires the hub may place again")
    func timer() {
        var s = FanoutSchedule(intervalNs: 50 * ms)
        var unscheduled: Bool
        var placement: FanoutSchedule.Placement
        var continuation: FanoutSchedule.Continuation
        s.started(atNs: t0)
        _ = s.finished()
        unscheduled = s.request()
        #expect(unscheduled)
        placement = s.place(nowNs: t0 + 20 * ms)
        #expect(placement == .afterMs(30))
        s.timerArmed()
        #expect(s.phase == .waitingForInterval && !s.isSending)
        unscheduled = s.request()
        #expect(!unscheduled)
        continuation = s.wakeupArrived()
        #expect(continuation == .nothing)
        #expect(s.phase == .waitingForInterval)
        s.timerFired()
        #expect(s.phase == .idle)
        unscheduled = s.request()
        #expect(unscheduled)
        placement = s.place(nowNs: t0 + 50 * ms)
        #expect(placement == .nextIteration)
    }

    @Test("without a timer a too-early request stays unscheduled, so the engine tick's request starts it")
    func noTimer() {
        var s = FanoutSchedule(intervalNs: 50 * ms)
        var unscheduled: Bool
        var placement: FanoutSchedule.Placement
        s.started(atNs: t0)
        _ = s.finished()
        unscheduled = s.request()
        #expect(unscheduled)
        placement = s.place(nowNs: t0 + 1 * ms)
        #expect(placement == .afterMs(49))
        unscheduled = s.request()
        #expect(unscheduled, "the tick finds nothing scheduled and starts a fan-out, interval or not")
        s.started(atNs: t0 + 2 * ms)
        #expect(s.isSending)
    }

    @Test("requests while a fan-out sends owe one fan-out, which starts on the loop iteration after it ends")
    func requestWhileSending() {
        var s = FanoutSchedule(intervalNs: 50 * ms)
        var unscheduled: Bool
        var continuation: FanoutSchedule.Continuation
        var anotherOwed: Bool
        unscheduled = s.request()
        #expect(unscheduled)
        s.started(atNs: t0)
        unscheduled = s.request()
        #expect(!unscheduled)
        #expect(s.phase == .sendingThenNext && s.isSending)
        unscheduled = s.request()
        #expect(!unscheduled)
        #expect(s.phase == .sendingThenNext)
        continuation = s.wakeupArrived()
        #expect(continuation == .nextSlice, "the owed fan-out waits for the slices of the one sending")
        anotherOwed = s.finished()
        #expect(anotherOwed, "the hub sends a wake-up for the owed fan-out")
        #expect(s.phase == .startingNextIteration && !s.isSending)
        unscheduled = s.request()
        #expect(!unscheduled)
        continuation = s.wakeupArrived()
        #expect(continuation == .newFanout)
        #expect(s.phase == .idle)
        continuation = s.wakeupArrived()
        #expect(continuation == .nothing)
    }

    @Test("the interval runs from the start of the last fan-out, not from its end")
    func intervalFromStart() {
        var s = FanoutSchedule(intervalNs: 50 * ms)
        var unscheduled: Bool
        var placement: FanoutSchedule.Placement
        var anotherOwed: Bool
        unscheduled = s.request()
        #expect(unscheduled)
        s.started(atNs: t0)
        anotherOwed = s.finished()   // a long fan-out: it ends 60 ms after it began
        #expect(!anotherOwed)
        unscheduled = s.request()
        #expect(unscheduled)
        placement = s.place(nowNs: t0 + 60 * ms)
        #expect(placement == .nextIteration)
    }
}

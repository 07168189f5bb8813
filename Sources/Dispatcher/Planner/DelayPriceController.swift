#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The weight of one second of delivery delay against one second of added travel in a stacking round's price,
/// adapted so that the delay the dispatcher commits per order stays near a budget: a share of the orders' ideal
/// delivery time (food ready, handed over, driven straight there).
///
/// Minimising travel subject to a bound on the mean delay is a constrained problem whose Lagrange multiplier is
/// exactly this weight; the controller raises it when the committed orders have used more than their share of the
/// budget and lowers it when they have used less (a multiplicative step on the relative overrun of the running
/// mean). A fixed weight spends a different amount of delay on every demand pattern: where few orders share a
/// direction it stacks too little for the same delivery promise, where many do it stacks too much. The running
/// mean starts from `priorOrders` virtual orders exactly at the budget, so the first commits do not swing it.
public struct DelayPriceController: Sendable, Equatable {
    /// The mean committed delay aimed at, as a share of the mean ideal delivery time.
    public let budgetShare: Double
    /// The weight while the running mean is exactly at the budget.
    public let initialWeight: Double
    /// How strongly a relative overrun moves the weight: weight = initial × exp(gain × overrun).
    public let gain: Double
    /// The weight never leaves this range.
    public let weightRange: ClosedRange<Double>
    /// Virtual orders at the budget that the running mean starts from.
    public let priorOrders: Double
    /// Orders committed so far and the delay and ideal delivery seconds they account for.
    public private(set) var committedOrders = 0
    public private(set) var committedDelaySeconds = 0.0
    public private(set) var committedIdealSeconds = 0.0

    /// A controller aiming at `budgetShare` × the ideal delivery time of delay per order.
    public init(budgetShare: Double, initialWeight: Double = 1, gain: Double = 2,
                weightRange: ClosedRange<Double> = 0.25...4, priorOrders: Double = 20) {
        self.budgetShare = max(0, budgetShare)
        self.initialWeight = max(0, initialWeight)
        self.gain = max(0, gain)
        self.weightRange = weightRange
        self.priorOrders = max(1, priorOrders)
    }

    /// Records one committed order: the delay its insertion was priced with (its own beyond the ideal drop-off
    /// plus what it adds to the orders already on the route) and its ideal delivery time. Non-finite or negative
    /// figures are ignored.
    public mutating func record(delaySeconds: Double, idealDeliverySeconds: Double) {
        guard delaySeconds.isFinite, idealDeliverySeconds.isFinite, delaySeconds >= 0, idealDeliverySeconds > 0 else { return }
        committedOrders += 1
        committedDelaySeconds += delaySeconds
        committedIdealSeconds += idealDeliverySeconds
    }

    /// The running mean delay per order over the running mean budget, minus one (0 at the budget); the prior's
    /// virtual orders sit exactly at the budget with the mean ideal time seen so far.
    public var overrun: Double {
        guard committedOrders > 0, budgetShare > 0 else { return 0 }
        let meanIdeal = committedIdealSeconds / Double(committedOrders)
        let budget = budgetShare * meanIdeal
        let mean = (committedDelaySeconds + priorOrders * budget) / (Double(committedOrders) + priorOrders)
        return mean / budget - 1
    }

    /// The delay weight to price the next round with.
    public var weight: Double {
        let w = initialWeight * exp(gain * overrun)
        return min(max(w, weightRange.lowerBound), weightRange.upperBound)
    }
}

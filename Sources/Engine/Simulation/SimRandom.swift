import Foundation

/// The simulation's repeatable generator (SplitMix64) with the few distributions the fleet and demand models draw
/// from. Same seed, same sequence, on every platform: the offline comparison depends on it.
///
/// `@inlinable`: the simulator draws in its per-ping and per-order loops from another module, and a
/// call per draw would cost more than the draw.
public struct SimRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    @inlinable
    public init(seed: UInt64) { state = seed }

    /// A generator for a named sub-stream, so adding draws to one model does not shift another's sequence.
    @inlinable
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SimRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in 0..<n (n > 0), by Lemire's multiply-shift (bias below 2⁻³² for the sizes used here).
    @inlinable
    public mutating func index(_ n: Int) -> Int {
        Int(truncatingIfNeeded: ((next() >> 32) &* UInt64(n)) >> 32)
    }

    /// Standard normal deviate (Box–Muller, one of the pair).
    @inlinable
    public mutating func normal() -> Double {
        let u1 = max(unit(), 0x1p-60), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Exponential deviate with the given mean (inter-arrival times of a Poisson process).
    @inlinable
    public mutating func exponential(mean: Double) -> Double {
        -log(max(1 - unit(), 0x1p-60)) * mean
    }

    /// Whether an event of probability `p` happens.
    @inlinable
    public mutating func chance(_ p: Double) -> Bool { unit() < p }
}

import HexGeo
import Synchronization
import Vocabulary

/// Surge multipliers per zone, from live demand and supply, smoothed over ticks.
///
/// Per tick and zone *z* of area *A* km², with demand *d* and supply *s*:
/// ```
/// pressure(z) = (d / A) / (s / A + baseline)           demand density ÷ supply density
/// p'(z)       = (1 − w)·pressure(z) + w·mean(pressure(neighbours of z))   (w = neighbourWeight)
/// target(z)   = min(cap, 1 + sensitivity · max(0, p'(z) − threshold))
/// m(z)       ← m(z) + alpha · (target(z) − m(z))       EWMA, m starts at 1
/// ```
/// A zone absent from a tick has target 1 and decays; it is forgotten once within 0.001 of 1.
/// Thread-safe: one Mutex, taken once per tick and once per lookup.
public final class SurgeMap: Sendable {
    private struct ZoneState {
        var multiplier: Double
        var demand: Int
        var supply: Int
    }

    private let config: SurgeConfig
    private let keyer: any ZoneKeyer
    private let zones = Mutex<[UInt64: ZoneState]>([:])

    /// A map with the given constants, keyed by `keyer`.
    public init(config: SurgeConfig, keyer: any ZoneKeyer) {
        self.config = config
        self.keyer = keyer
    }

    /// Advances one tick from counted points: waiting orders' pick-ups and available couriers.
    /// Points the keyer refuses are skipped.
    /// - Complexity: O(n) in the points, plus O(zones · neighbours).
    public func tick(waitingPickups: [LatLng], availableCouriers: [LatLng]) {
        var counts: [UInt64: ZoneCount] = [:]
        for p in waitingPickups {
            guard let z = keyer.zone(for: p) else { continue }
            counts[z.id, default: ZoneCount(zone: z, demand: 0, supply: 0)].demand += 1
        }
        for p in availableCouriers {
            guard let z = keyer.zone(for: p) else { continue }
            counts[z.id, default: ZoneCount(zone: z, demand: 0, supply: 0)].supply += 1
        }
        tick(Array(counts.values))
    }

    /// Advances one tick from waiting pick-ups and the live-index cells of available couriers (one entry per
    /// courier, H3 cell ids): couriers are counted per cell first, so the keyer sees each distinct cell once.
    public func tick(waitingPickups: [LatLng], availableCourierCells: [UInt64]) {
        var perCell = KeyTally()
        for c in availableCourierCells { perCell.add(c) }
        var counts: [UInt64: ZoneCount] = [:]
        for p in waitingPickups {
            guard let z = keyer.zone(for: p) else { continue }
            counts[z.id, default: ZoneCount(zone: z, demand: 0, supply: 0)].demand += 1
        }
        perCell.forEach { cell, n in
            guard let z = keyer.zone(forCell: H3Cell(rawValue: cell)) else { return }
            counts[z.id, default: ZoneCount(zone: z, demand: 0, supply: 0)].supply += n
        }
        tick(Array(counts.values))
    }

    /// Advances one tick from per-zone counts (a zone listed twice: the last wins).
    public func tick(_ counts: [ZoneCount]) {
        var pressure: [UInt64: Double] = [:]
        var byZone: [UInt64: ZoneCount] = [:]
        for c in counts where c.zone.areaM2.isFinite && c.zone.areaM2 > 0 && c.demand >= 0 && c.supply >= 0 {
            byZone[c.zone.id] = c
            let areaKm2 = c.zone.areaM2 / 1e6
            let demandDensity = Double(c.demand) / areaKm2
            let supplyDensity = Double(c.supply) / areaKm2
            pressure[c.zone.id] = demandDensity / (supplyDensity + config.baselineSupplyPerKm2)
        }
        var targets: [UInt64: Double] = [:]
        for (id, p) in pressure {
            var effective = p
            if config.neighbourWeight > 0 {
                let ns = keyer.neighbors(of: id)
                if !ns.isEmpty {
                    let mean = ns.reduce(0.0) { $0 + (pressure[$1] ?? 0) } / Double(ns.count)
                    effective = (1 - config.neighbourWeight) * p + config.neighbourWeight * mean
                }
            }
            targets[id] = Self.target(pressure: effective, config: config)
        }
        let config = self.config
        zones.withLock { states in
            for id in Set(states.keys).union(targets.keys) {
                let target = targets[id] ?? 1
                let old = states[id]?.multiplier ?? 1
                var m = old + config.alpha * (target - old)
                m = min(config.cap, max(1, m))
                let c = byZone[id]
                if c == nil && m < 1.001 {
                    states[id] = nil
                } else {
                    states[id] = ZoneState(multiplier: m, demand: c?.demand ?? 0, supply: c?.supply ?? 0)
                }
            }
        }
    }

    /// The un-smoothed multiplier a pressure asks for: 1 + sensitivity·(p − threshold)⁺, capped.
    static func target(pressure: Double, config: SurgeConfig) -> Double {
        guard pressure.isFinite else { return config.cap }
        return min(config.cap, 1 + config.sensitivity * max(0, pressure - config.threshold))
    }

    /// The multiplier at a point (1 outside any surging zone or for a point the keyer refuses).
    public func multiplier(at point: LatLng) -> Double {
        guard let z = keyer.zone(for: point) else { return 1 }
        return multiplier(zone: z.id)
    }

    /// The multiplier of a zone (1 when it is not surging).
    public func multiplier(zone: UInt64) -> Double {
        zones.withLock { $0[zone]?.multiplier ?? 1 }
    }

    /// Every zone the map tracks, highest multiplier first (then by zone id): `GET /v1/surge`.
    public func surgeZones() -> [SurgeZone] {
        zones.withLock { states in
            states.map { SurgeZone(zone: $0.key, multiplier: $0.value.multiplier, demand: $0.value.demand,
                                   supply: $0.value.supply) }
        }.sorted { $0.multiplier != $1.multiplier ? $0.multiplier > $1.multiplier : $0.zone < $1.zone }
    }
}

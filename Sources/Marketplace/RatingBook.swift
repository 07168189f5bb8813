import Storage
import Synchronization
import Vocabulary

/// Ratings: customers rate couriers and couriers rate customers after delivery, once per order and
/// direction, and a Bayesian average per subject that the dispatch cost model reads.
///
/// Bayesian average with a prior of `priorWeight` ratings of `priorMean` stars
/// (defaults C = 5, m = 4.5): (C·m + Σstars) / (C + n). A new courier scores 4.5; one 1-star
/// rating moves it to 3.92, not to 1; after hundreds of ratings it is the plain mean.
///
/// Totals live durably in the store (updated in the rating's own transaction) and in memory here,
/// loaded once at start, so `courierScore` is a Mutex-guarded dictionary lookup (any thread).
public final class RatingBook: Sendable {
    /// Weight of the prior, in ratings.
    public let priorWeight: Double
    /// Mean of the prior, in stars.
    public let priorMean: Double
    private let store: any Store
    private let notifier: Notifier?
    private let totals = Mutex<[RatingSubjectKind: [String: (count: Int64, sum: Int64)]]>([:])

    /// Loads every subject's totals from the store.
    /// - Throws: a storage error wrapped as `MarketplaceError` when the totals cannot be read.
    public convenience init(store: any Store, notifier: Notifier?, priorWeight: Double = 5, priorMean: Double = 4.5) throws(MarketplaceError) {
        var totals: [RatingSubjectKind: [RatingTotals]] = [:]
        for kind in RatingSubjectKind.allCases {
            do { totals[kind] = try store.ratingTotals(kind: kind) } catch { throw MarketplaceError(error) }
        }
        self.init(store: store, notifier: notifier, totals: totals, priorWeight: priorWeight, priorMean: priorMean)
    }

    /// A book starting from totals already read from `store` (`StartupSnapshot`); a kind missing has none.
    public init(store: any Store, notifier: Notifier?, totals rowsByKind: [RatingSubjectKind: [RatingTotals]],
                priorWeight: Double = 5, priorMean: Double = 4.5) {
        self.store = store
        self.notifier = notifier
        self.priorWeight = max(0, priorWeight)
        self.priorMean = priorMean
        var loaded: [RatingSubjectKind: [String: (count: Int64, sum: Int64)]] = [:]
        for kind in RatingSubjectKind.allCases {
            let rows = rowsByKind[kind] ?? []
            var m: [String: (count: Int64, sum: Int64)] = [:]
            for r in rows { m[r.subjectID] = (r.count, r.starsSum) }
            loaded[kind] = m
        }
        totals.withLock { $0 = loaded }
    }

    /// Rates an order: a customer rates its courier, a courier its customer (`actor` decides which).
    /// Fails with `invalid_input` (stars, comment), `rating_not_allowed` (not delivered), `forbidden`,
    /// `already_rated`, `order_not_found`. The completion runs after the commit.
    public func rate(_ orderID: OrderID, by actor: ActorRef, stars: Int, comment: String?,
                     completion: @escaping @Sendable (Result<RatingRecord, MarketplaceError>) -> Void) {
        let direction: RatingDirection
        switch actor.role {
        case .customer: direction = .customerToCourier
        case .courier: direction = .courierToCustomer
        default:
            completion(.failure(MarketplaceError(.forbidden, "only the order's customer or courier rates")))
            return
        }
        let notifier = self.notifier
        store.addRating(NewRating(orderID: orderID, direction: direction, raterID: actor.id, stars: stars,
                                  comment: comment)) { [self] result in
            switch result {
            case .success(let r):
                totals.withLock { t in
                    let old: (count: Int64, sum: Int64) = t[direction.subjectKind]?[r.subjectID] ?? (0, 0)
                    t[direction.subjectKind, default: [:]][r.subjectID] = (old.count + 1, old.sum + Int64(r.stars))
                }
                notifier?.publish(.ratingReceived(r))
                completion(.success(r))
            case .failure(let e):
                completion(.failure(MarketplaceError(e)))
            }
        }
    }

    /// The Bayesian average for given totals.
    public func bayesianAverage(count: Int64, starsSum: Int64) -> Double {
        let denominator = priorWeight + Double(count)
        guard denominator > 0 else { return priorMean }
        return (priorWeight * priorMean + Double(starsSum)) / denominator
    }

    /// A subject's summary (the prior alone when never rated); `id` is a courier's decimal id or a customer's id.
    public func summary(_ kind: RatingSubjectKind, _ id: String) -> RatingSummary {
        let t: (count: Int64, sum: Int64) = totals.withLock { $0[kind]?[id] } ?? (0, 0)
        return RatingSummary(count: t.count, mean: t.count > 0 ? Double(t.sum) / Double(t.count) : 0,
                             bayesian: bayesianAverage(count: t.count, starsSum: t.sum))
    }

    /// The courier's Bayesian average in stars (1…5): what the dispatch cost model reads.
    /// - Complexity: one dictionary lookup under a Mutex; no allocation for ids of up to 15 digits (the decimal key
    ///   is a small, inline string).
    public func courierScore(_ courier: CourierID) -> Double {
        let key = String(courier.rawValue)
        let t: (count: Int64, sum: Int64) = totals.withLock { $0[.courier]?[key] } ?? (0, 0)
        return bayesianAverage(count: t.count, starsSum: t.sum)
    }

    /// The customer's Bayesian average in stars.
    public func customerScore(_ customer: CustomerID) -> Double {
        summary(.customer, customer.rawValue).bayesian
    }
}

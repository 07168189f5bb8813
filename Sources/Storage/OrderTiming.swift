/// When an order's food is ready and how late it may arrive: the optional `ready_in_s`, `deadline_s` and
/// `max_ride_s` of `POST /v1/orders`, in whole seconds, kept with the order (migration `v3_order_timing`).
///
/// Ready time and deadline count from the order's creation; the maximum ride runs from the pickup's service start
/// to the drop-off. Nil means "not given" (the engine then applies its own defaults, docs/dispatch.md).
public struct OrderTiming: Sendable, Equatable, Hashable {
    /// Seconds after creation before which the pickup cannot start (food preparation), 0…86,400.
    public var readyInSeconds: Int64?
    /// Seconds after creation by which the drop-off must be reached, 1…86,400 and not before the ready time.
    public var deadlineSeconds: Int64?
    /// Longest ride from pickup to drop-off, seconds, 1…86,400.
    public var maxRideSeconds: Int64?

    /// The largest value any of the three may take: one day.
    public static let maxSeconds: Int64 = 86_400

    /// Timing; every field optional.
    public init(readyInSeconds: Int64? = nil, deadlineSeconds: Int64? = nil, maxRideSeconds: Int64? = nil) {
        self.readyInSeconds = readyInSeconds
        self.deadlineSeconds = deadlineSeconds
        self.maxRideSeconds = maxRideSeconds
    }

    /// Whether no field is given.
    public var isEmpty: Bool { readyInSeconds == nil && deadlineSeconds == nil && maxRideSeconds == nil }

    /// Nil when every given field is in range, else the reason (names the JSON key).
    public func validationFailure() -> String? {
        if let r = readyInSeconds, r < 0 || r > Self.maxSeconds { return "ready_in_s must be 0…86400" }
        if let d = deadlineSeconds, d < 1 || d > Self.maxSeconds { return "deadline_s must be 1…86400" }
        if let m = maxRideSeconds, m < 1 || m > Self.maxSeconds { return "max_ride_s must be 1…86400" }
        if let r = readyInSeconds, let d = deadlineSeconds, d < r { return "deadline_s must not come before ready_in_s" }
        return nil
    }

    /// The fields in a canonical text for idempotency fingerprints; empty when none is given, so requests without
    /// timing keep the fingerprints they had before these fields existed.
    public var fingerprintSuffix: String {
        if isEmpty { return "" }
        func f(_ v: Int64?) -> String { v.map(String.init) ?? "-" }
        return "|t\(f(readyInSeconds)),\(f(deadlineSeconds)),\(f(maxRideSeconds))"
    }
}

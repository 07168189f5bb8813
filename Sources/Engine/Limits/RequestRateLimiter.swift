import HTTPServer

/// Token buckets by caller, checked before every routed request: one dictionary look-up and a few arithmetic
/// operations. Callers are keyed by bearer token, or by client IP when a request carries none. Loop-owned.
///
/// Memory stays bounded two ways: a bucket that has refilled completely carries no information and is dropped by
/// ``evictIdle(nowMs:)`` (the engine's tick calls it every couple of seconds), and once the table holds
/// ``LimitsConfiguration/maxRateLimitBuckets`` a token not already in it is charged to its client IP's bucket.
final class RequestRateLimiter {
    private struct Bucket {
        var tokens: Double
        var lastMs: UInt64
    }

    private var buckets: [String: Bucket] = [:]
    private let tokensPerMs: Double
    private let capacity: Double
    private let maxBuckets: Int
    private let adminToken: Substring?
    /// Requests refused since start.
    private(set) var refused: UInt64 = 0

    /// A limiter of `ratePerSecond` (> 0) with `burst` tokens; `adminToken` is never limited.
    init(ratePerSecond: Int, burst: Int, maxBuckets: Int, adminToken: String?) {
        tokensPerMs = Double(ratePerSecond) / 1_000
        capacity = Double(max(1, burst))
        self.maxBuckets = max(1, maxBuckets)
        self.adminToken = adminToken.map { Substring($0) }
    }

    /// Buckets held now.
    var bucketCount: Int { buckets.count }

    /// Takes one token from the bucket of the caller with this `Authorization` header (or, without a bearer
    /// token, this client IP) at loop time `nowMs`: nil admits the request, otherwise the whole seconds until a
    /// token is back (the `Retry-After`).
    func admit(authorization: String?, clientHost: String?, nowMs: UInt64) -> Int? {
        var key: String
        if let authorization, let token = Self.bearerToken(authorization) {
            if let adminToken, Self.constantTimeEqual(token, adminToken) { return nil }
            key = String(token)
            if buckets.count >= maxBuckets, buckets[key] == nil { key = Self.ipKey(clientHost) }
        } else {
            key = Self.ipKey(clientHost)
        }
        // One hash look-up, in place: the default is a full bucket for a caller seen for the first time.
        let wait = take(&buckets[key, default: Bucket(tokens: capacity, lastMs: nowMs)], nowMs: nowMs)
        if wait != nil { refused &+= 1 }
        return wait
    }

    /// Refills `bucket` for the time since its last use and takes a token: nil, or the seconds until one is back.
    private func take(_ bucket: inout Bucket, nowMs: UInt64) -> Int? {
        let elapsed = nowMs > bucket.lastMs ? Double(nowMs - bucket.lastMs) : 0
        bucket.tokens = min(capacity, bucket.tokens + elapsed * tokensPerMs)
        bucket.lastMs = nowMs
        guard bucket.tokens < 1 else {
            bucket.tokens -= 1
            return nil
        }
        return max(1, Int(((1 - bucket.tokens) / tokensPerMs / 1_000).rounded(.up)))
    }

    /// Drops the buckets that have refilled completely by `nowMs` (an idle caller starts full again anyway).
    func evictIdle(nowMs: UInt64) {
        guard !buckets.isEmpty else { return }
        let refillMs = UInt64((capacity / tokensPerMs).rounded(.up))
        buckets = buckets.filter { _, bucket in nowMs < bucket.lastMs &+ refillMs }
    }

    /// The 429 answer: `rate_limited` with `Retry-After` in seconds.
    static func refusal(retryAfterSeconds: Int) -> HTTPResponse {
        var response = HTTPResponse.error(APIError(.rateLimited, "too many requests for this token; retry after \(retryAfterSeconds) s"))
        response.headers.append(("Retry-After", String(retryAfterSeconds)))
        return response
    }

    private static func ipKey(_ clientHost: String?) -> String {
        // A bearer token never holds a space (it is cut at the first), so the two kinds of key never collide.
        "ip " + (clientHost ?? "?")
    }

    /// The token of `Bearer <token>` (scheme case-insensitive); nil for anything else.
    private static func bearerToken(_ header: String) -> Substring? {
        let utf8 = header.utf8
        guard utf8.count > 7 else { return nil }
        let scheme = header.prefix(7)
        guard scheme.lowercased() == "bearer " else { return nil }
        let token = header.dropFirst(7).drop { $0 == " " }.prefix { $0 != " " }
        return token.isEmpty ? nil : token
    }

    /// Equality whose time does not depend on where two equal-length strings differ (the admin token is a secret).
    private static func constantTimeEqual(_ a: Substring, _ b: Substring) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a.utf8, b.utf8) { difference |= x ^ y }
        return difference == 0
    }
}

extension APIError.Code {
    /// 429: the caller's token (or IP) sent more requests than `--rate-limit` allows; `Retry-After` says when to
    /// try again.
    public static let rateLimited = APIError.Code("rate_limited", 429)
}

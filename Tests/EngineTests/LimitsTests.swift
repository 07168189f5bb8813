@testable import Engine
import Foundation
import Testing
import TestSupport

/// The abuse limits (docs/limits.md): the token buckets' arithmetic at chosen instants, and the limits an engine
/// enforces over real sockets.
@Suite struct RequestRateLimiterTests {
    @Test("a bucket admits its burst, refuses with the seconds until a token is back, and refills at the rate")
    func burstRefusalRefill() {
        let limiter = RequestRateLimiter(ratePerSecond: 2, burst: 4, maxBuckets: 100, adminToken: nil)
        let alice = "Bearer alice"
        for _ in 0..<4 { #expect(limiter.admit(authorization: alice, clientHost: "10.0.0.1", nowMs: 1_000) == nil) }
        #expect(limiter.admit(authorization: alice, clientHost: "10.0.0.1", nowMs: 1_000) == 1)
        #expect(limiter.refused == 1)
        // Another token from the same address has its own bucket.
        #expect(limiter.admit(authorization: "Bearer bob", clientHost: "10.0.0.1", nowMs: 1_000) == nil)
        // Half a second at 2/s brings one token back, and only one.
        #expect(limiter.admit(authorization: alice, clientHost: "10.0.0.1", nowMs: 1_500) == nil)
        #expect(limiter.admit(authorization: alice, clientHost: "10.0.0.1", nowMs: 1_500) != nil)
        // The scheme is case-insensitive and the token is what counts.
        #expect(limiter.admit(authorization: "bearer alice", clientHost: "10.0.0.2", nowMs: 1_500) != nil)
    }

    @Test("a slow refill says so in Retry-After; the 429 carries it and the code rate_limited")
    func retryAfter() throws {
        let limiter = RequestRateLimiter(ratePerSecond: 1, burst: 1, maxBuckets: 100, adminToken: nil)
        #expect(limiter.admit(authorization: nil, clientHost: "10.0.0.1", nowMs: 0) == nil)
        #expect(limiter.admit(authorization: nil, clientHost: "10.0.0.1", nowMs: 100) == 1)
        let slow = RequestRateLimiter(ratePerSecond: 1, burst: 1, maxBuckets: 100, adminToken: nil)
        #expect(slow.admit(authorization: "Bearer t", clientHost: nil, nowMs: 0) == nil)
        #expect(slow.admit(authorization: "Bearer t", clientHost: nil, nowMs: 0) == 1)
        let slower = RequestRateLimiter(ratePerSecond: 1, burst: 1, maxBuckets: 100, adminToken: nil)
        #expect(slower.admit(authorization: "Bearer t", clientHost: nil, nowMs: 0) == nil)
        #expect(slower.admit(authorization: "Bearer t", clientHost: nil, nowMs: 400) == 1, "0.6 s rounds up to 1")
        let response = RequestRateLimiter.refusal(retryAfterSeconds: 3)
        #expect(response.status == 429)
        #expect(response.headers.contains { $0.0 == "Retry-After" && $0.1 == "3" })
        #expect(String(decoding: response.body, as: UTF8.self).contains("\"rate_limited\""))
    }

    @Test("requests without a token share their client IP's bucket; the admin token is never limited")
    func ipBucketsAndAdmin() {
        let limiter = RequestRateLimiter(ratePerSecond: 1, burst: 2, maxBuckets: 100, adminToken: "root-token")
        #expect(limiter.admit(authorization: nil, clientHost: "10.0.0.1", nowMs: 0) == nil)
        #expect(limiter.admit(authorization: "Basic xyz", clientHost: "10.0.0.1", nowMs: 0) == nil)
        #expect(limiter.admit(authorization: nil, clientHost: "10.0.0.1", nowMs: 0) != nil)
        #expect(limiter.admit(authorization: nil, clientHost: "10.0.0.2", nowMs: 0) == nil)
        for _ in 0..<1_000 { #expect(limiter.admit(authorization: "Bearer root-token", clientHost: "10.0.0.1", nowMs: 0) == nil) }
        #expect(limiter.admit(authorization: "Bearer root-tokem", clientHost: "10.0.0.3", nowMs: 0) == nil)
        #expect(limiter.bucketCount == 3, "the admin token takes no bucket")
    }

    @Test("the table stays bounded: idle buckets are evicted, and past the cap new tokens share their IP's bucket")
    func boundedTable() {
        let limiter = RequestRateLimiter(ratePerSecond: 10, burst: 20, maxBuckets: 3, adminToken: nil)
        for i in 0..<3 { _ = limiter.admit(authorization: "Bearer t\(i)", clientHost: "10.0.0.9", nowMs: 0) }
        #expect(limiter.bucketCount == 3)
        // Past the cap, made-up tokens all land in one bucket: its burst of 20, then refused.
        var admitted = 0
        for i in 0..<50 where limiter.admit(authorization: "Bearer fresh\(i)", clientHost: "10.0.0.9", nowMs: 0) == nil {
            admitted += 1
        }
        #expect(admitted == 20)
        #expect(limiter.bucketCount == 4)
        limiter.evictIdle(nowMs: 1_000)
        #expect(limiter.bucketCount == 4, "a bucket that has not refilled is kept")
        limiter.evictIdle(nowMs: 2_001)
        #expect(limiter.bucketCount == 0, "every bucket refilled after burst / rate = 2 s")
    }
}

@Suite(.serialized) struct EngineLimitsTests {
    typealias F = OrdersFixture

    @Test("a customer past its live-order limit gets 429 too_many_orders until one of its orders ends")
    func liveOrdersPerCustomer() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try TestEngine(configure: {
            $0.dataDirectory = dir
            $0.graphPath = F.monaco
            $0.limits.maxLiveOrdersPerCustomer = 2
        })
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "31")
        let first = try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice)
        #expect(first.status == 201, "\(first.text)")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice).status == 201)
        let refused = try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice)
        #expect(refused.status == 429)
        #expect(refused.errorCode == "too_many_orders", "\(refused.text)")
        // The limit is the customer's, whoever places the order; other customers are unaffected.
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "31")).errorCode == "too_many_orders")
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "32")).status == 201)
        let id = try F.id(first)
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/cancel", "{}", token: alice).status == 200)
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice).status == 201)
        #expect(try eventually { try engine.metric("hexfleet_orders_limited_total").map { $0 >= 2 } == true })
        #expect(try engine.metric(#"hexfleet_limit{name="max_live_orders_per_customer"}"#) == 2)
    }

    @Test("every limit is in /metrics with the value in force")
    func limitsInMetrics() throws {
        let engine = try TestEngine(configure: {
            $0.limits.maxConnections = 123
            $0.limits.rateLimitPerSecond = 77
            $0.limits.headerTimeoutMs = 4_000
        })
        defer { engine.close() }
        #expect(try engine.metric(#"hexfleet_limit{name="max_connections"}"#) == 123)
        #expect(try engine.metric(#"hexfleet_limit{name="rate_limit_per_second"}"#) == 77)
        #expect(try engine.metric(#"hexfleet_limit{name="rate_limit_burst"}"#) == 154)
        #expect(try engine.metric(#"hexfleet_limit{name="header_timeout_ms"}"#) == 4_000)
        for name in ["max_header_bytes", "max_body_bytes", "ws_max_message_bytes", "ws_max_queued_bytes",
                     "ws_max_fragments_per_message", "ws_max_control_frames_per_second", "max_pipelined_requests"] {
            #expect(try engine.metric("hexfleet_limit{name=\"\(name)\"}").map { $0 > 0 } == true, "\(name)")
        }
        #expect(try engine.metric("hexfleet_connections_refused_total") == 0)
    }
}

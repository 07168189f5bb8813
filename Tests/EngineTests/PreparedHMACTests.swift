import Crypto
import CSHA256Lanes
import Foundation
import Testing
import TestSupport
@testable import Engine

/// The allocation-free HMAC against swift-crypto's (an independent implementation) and RFC 4231's vectors.
@Suite struct PreparedHMACTests {
    static func bytes(hex: String) -> [UInt8] { Hex.decode(hex)! }

    @Test("RFC 4231 test cases 1, 2, 6 and 7 (keys of 20, 4 and 131 bytes; 131 is hashed first)")
    func rfc4231() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xAA, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xAA, count: 131),
             Array(("This is a test using a larger than block-size key and a larger than block-size data. The key " +
                    "needs to be hashed before being used by the HMAC algorithm.").utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for c in cases {
            let mac = c.data.withUnsafeBytes { PreparedHMAC(key: c.key).authenticationCode(for: $0) }
            #expect(mac == Self.bytes(hex: c.mac))
        }
    }

    @Test("equals swift-crypto's HMAC-SHA256 for keys of 0…200 bytes and messages of 0…300 bytes")
    func matchesSwiftCrypto() {
        var rng = SeededRandom(seed: 4231)
        for keyLength in [0, 1, 16, 31, 32, 33, 55, 56, 63, 64, 65, 100, 128, 200] {
            for _ in 0..<12 {
                let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let message = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let ours = message.withUnsafeBytes { PreparedHMAC(key: key).authenticationCode(for: $0) }
                let theirs = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                #expect(ours == theirs, "key \(keyLength) B, message \(message.count) B")
            }
        }
    }

    @Test("prepared signer keys are the derived keys of DESIGN.md, for small, large and top-bit ids")
    func preparedKeysMatchDerivation() {
        let keys = PingKeys(secret: [UInt8](repeating: 0x5A, count: 40))
        let message = Array("header and records".utf8)
        for id: UInt64 in [0, 1, 9, 10, 99, 12_345, 1 << 62, UInt64.max] {
            for gateway in [false, true] {
                let prepared = gateway ? keys.preparedGateway(id) : keys.preparedDriver(id)
                let key = gateway ? keys.gatewayKey(id) : keys.driverKey(id)
                let ours = message.withUnsafeBytes { prepared.authenticationCode(for: $0) }
                #expect(ours == Array(HMAC<SHA256>.authenticationCode(for: message, using: key)), "id \(id) gateway \(gateway)")
            }
        }
    }

    @Test("a truncated tag verifies only when every byte matches, and sign writes what verify accepts")
    func verifyAndSign() {
        let prepared = PreparedHMAC(key: Array("k".utf8))
        var datagram = [UInt8](repeating: 7, count: 48 + PingWire.tagBytes)
        datagram.withUnsafeMutableBytes { PingTag.sign($0, prepared: prepared) }
        #expect(datagram.withUnsafeBytes { PingTag.verify($0, prepared: prepared) })
        for i in [0, 20, 47, 48, 55, 63] {
            var bad = datagram
            bad[i] ^= 0x01
            #expect(!bad.withUnsafeBytes { PingTag.verify($0, prepared: prepared) }, "flipped byte \(i)")
        }
        let tooLong = [UInt8](repeating: 0, count: 33)
        #expect(!Array("m".utf8).withUnsafeBytes { m in tooLong.withUnsafeBytes { prepared.verify(m, truncatedTag: $0) } })
    }
}

/// The two-chain paths (`CSHA256Lanes`): paired codes and paired key derivations equal the one-at-a-time ones, with
/// the SHA extensions and with the OpenSSL fallback. The block function is chosen once per process (other suites
/// hash on other threads meanwhile), so this process checks the one the CPU chose and a child process of its own
/// (an exit test) checks the fallback, chosen before it hashes anything.
@Suite struct PairedHMACTests {
    /// How paired codes differ from swift-crypto's over 300 random key and message pairs (0…300 bytes); empty when
    /// they all agree.
    static func pairedCodeMismatches(seed: UInt64) -> [String] {
        var rng = SeededRandom(seed: seed)
        var out: [String] = []
        for n in 0..<300 {
            let keyA = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let keyB = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let a = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let b = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let ha = PreparedHMAC(key: keyA), hb = PreparedHMAC(key: keyB)
            var codes = [UInt8](repeating: 0, count: 64)
            a.withUnsafeBytes { ma in
                b.withUnsafeBytes { mb in
                    codes.withUnsafeMutableBufferPointer { c in
                        PreparedHMAC.authenticationCodes(ha, ma, into: c.baseAddress!, hb, mb, into: c.baseAddress! + 32)
                    }
                }
            }
            if Array(codes[0..<32]) != Array(HMAC<SHA256>.authenticationCode(for: a, using: SymmetricKey(data: keyA))) {
                out.append("seed \(seed) pair \(n): first code (\(keyA.count) B key, \(a.count) B message)")
            }
            if Array(codes[32..<64]) != Array(HMAC<SHA256>.authenticationCode(for: b, using: SymmetricKey(data: keyB))) {
                out.append("seed \(seed) pair \(n): second code (\(keyB.count) B key, \(b.count) B message)")
            }
        }
        return out
    }

    /// How signer keys derived in pairs differ from those derived one at a time (and from swift-crypto's HMAC under
    /// the derived key); empty when they all agree.
    static func pairedDerivationMismatches() -> [String] {
        let keys = PingKeys(secret: [UInt8](repeating: 0x77, count: 24))
        let message = Array("sixteen-byte hdr and a 32-byte record...".utf8)
        let ids: [UInt64] = [0, 7, 10, 99_999, 1 << 40, UInt64.max - 1, UInt64.max]
        var out: [String] = []
        for a in ids {
            for b in ids.reversed() {
                for (ga, gb) in [(false, false), (true, false), (false, true), (true, true)] {
                    let (pa, pb) = keys.preparedPair(a, gateway: ga, b, gateway: gb)
                    let code = { (k: PreparedHMAC) in message.withUnsafeBytes { k.authenticationCode(for: $0) } }
                    if code(pa) != code(ga ? keys.preparedGateway(a) : keys.preparedDriver(a)) {
                        out.append("first of (\(a) \(ga), \(b) \(gb))")
                    }
                    if code(pb) != Array(HMAC<SHA256>.authenticationCode(for: message, using: gb ? keys.gatewayKey(b) : keys.driverKey(b))) {
                        out.append("second of (\(a) \(ga), \(b) \(gb))")
                    }
                }
            }
        }
        return out
    }

    @Test("two codes in lockstep equal two single codes, for messages of 0…300 bytes, with this process's block function")
    func pairedCodes() {
        let mismatches = Self.pairedCodeMismatches(seed: 11)
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }

    @Test("signer keys derived in pairs equal those derived one at a time, with this process's block function")
    func pairedDerivation() {
        let mismatches = Self.pairedDerivationMismatches()
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }

    @Test("with the OpenSSL fallback, chosen once in a child process: paired codes and derivations equal the single ones")
    func fallback() async {
        // Exit status 2: the fallback could not be chosen; 1: a mismatch (the child records which); 3: switched back.
        await #expect(processExitsWith: .success) {
            // Nothing in this process hashed yet, so the fallback can still be chosen, and then it stays.
            guard hf_sha256_use_fallback() == 1, hf_sha256_accelerated() == 0 else { exit(2) }
            let mismatches = PairedHMACTests.pairedCodeMismatches(seed: 12) + PairedHMACTests.pairedDerivationMismatches()
            #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
            guard mismatches.isEmpty else { exit(1) }
            guard hf_sha256_accelerated() == 0 else { exit(3) }
            exit(0)
        }
    }

    @Test("the SHA extensions are used exactly when the kernel lists them for this CPU (sha_ni), and the choice is final")
    func detectsExtensions() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let listed = cpuinfo.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("sha_ni") }
        #expect((hf_sha256_accelerated() == 1) == listed, "cpuinfo lists sha_ni: \(listed)")
        if listed {
            #expect(hf_sha256_use_fallback() == 0, "a process that chose the extensions keeps them")
            #expect(hf_sha256_accelerated() == 1)
        }
    }
}

import Testing
@testable import Marketplace

@Suite("SHA-256 and HMAC-SHA256 (swift-crypto)")
struct SHA256Tests {
    @Test("FIPS 180-4 examples", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func digests(input: String, hex: String) {
        #expect(Digests.hex(Digests.sha256(Array(input.utf8))) == hex)
    }

    @Test("a million 'a's (multi-block input)")
    func million() {
        #expect(Digests.hex(Digests.sha256([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("RFC 4231 HMAC-SHA256 test cases 1, 2 and 6")
    func hmac() {
        #expect(Digests.hex(Digests.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Digests.hex(Digests.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Digests.hex(Digests.hmacSHA256(key: [UInt8](repeating: 0xaa, count: 131),
                                       message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("the webhook signer's header is sha256= and the HMAC hex; verify rejects tampering")
    func signer() {
        let key = Array("Jefe".utf8), body = Array("what do ya want for nothing?".utf8)
        let header = WebhookSigner.hmacSHA256(secret: key).signature(for: body)
        #expect(header == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(WebhookSigner.verify(header: header, body: body, secret: key))
        #expect(!WebhookSigner.verify(header: header, body: body + [0x20], secret: key))
        #expect(!WebhookSigner.verify(header: "sha256=00", body: body, secret: key))
    }
}

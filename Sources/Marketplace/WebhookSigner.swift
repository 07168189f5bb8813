/// Signs webhook bodies: `sha256=<hex of HMAC-SHA256(secret, body)>`, the value of `X-Hexfleet-Signature`.
public struct WebhookSigner: Sendable {
    private let sign: @Sendable ([UInt8]) -> String

    /// A signer from a closure returning the full header value.
    public init(_ sign: @escaping @Sendable ([UInt8]) -> String) { self.sign = sign }

    /// The built-in HMAC-SHA256 signer for `secret`.
    public static func hmacSHA256(secret: [UInt8]) -> WebhookSigner {
        WebhookSigner { body in "sha256=" + Digests.hex(Digests.hmacSHA256(key: secret, message: body)) }
    }

    /// The header value for `body`.
    public func signature(for body: [UInt8]) -> String { sign(body) }

    /// Whether `header` is the signature `secret` gives `body`, compared in constant time
    /// (for receivers and tests).
    public static func verify(header: String, body: [UInt8], secret: [UInt8]) -> Bool {
        let want = "sha256=" + Digests.hex(Digests.hmacSHA256(key: secret, message: body))
        return Digests.constantTimeEquals(Array(header.utf8), Array(want.utf8))
    }
}

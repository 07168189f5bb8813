import Crypto
import Foundation
import Vocabulary

/// Who a bearer token speaks for.
public enum Role: String, Sendable, CaseIterable {
    case admin, dispatcher, driver, customer
}

/// A verified caller: its role and whom its token names, parsed once when the token is verified.
public struct Principal: Sendable, Equatable {
    /// Whom a token speaks for.
    public enum Subject: Sendable, Equatable {
        /// The static admin token names nobody.
        case nobody
        /// A driver token: the numeric driver id.
        case driver(DriverID)
        /// A customer token: the customer id orders are placed under (its subject, as given).
        case customer(CustomerID)
        /// An operator's name (admin, dispatcher: a dispatcher's name is its fleet), or a driver or customer token
        /// whose subject is not a valid id of its kind (it can own nothing).
        case named(String)
    }

    public let role: Role
    public let subject: Subject

    /// A principal for a token's role and subject text.
    public init(role: Role, subject text: String) {
        self.role = role
        switch role {
        case .driver: subject = UInt64(text).map { .driver(DriverID($0)) } ?? .named(text)
        case .customer: subject = CustomerID(rawValue: text).map { .customer($0) } ?? .named(text)
        case .admin, .dispatcher: subject = text.isEmpty ? .nobody : .named(text)
        }
    }

    /// Whether this principal may act as anyone.
    public var isAdmin: Bool { role == .admin }
    /// The driver a driver token speaks for.
    public var driverID: DriverID? { if case .driver(let id) = subject { id } else { nil } }
    /// The customer a customer token speaks for.
    public var customerID: CustomerID? { if case .customer(let id) = subject { id } else { nil } }
    /// An operator's or unnumbered subject's name.
    public var name: String? { if case .named(let n) = subject { n } else { nil } }
}

/// Issues and verifies HMAC-signed bearer tokens: `hf1.<role>.<subject>.<expiry>.<signature>`, signature =
/// base64url(HMAC-SHA256(secret, everything before it)). Subjects are 1–64 bytes of `[A-Za-z0-9._:@-]` (the
/// customer-id alphabet); a subject may hold dots, so a token is read from both ends: the role is the second
/// part, the expiry and signature the last two, the subject everything between. The static admin token (if
/// configured) compares in constant time.
public struct TokenAuthority: Sendable {
    // Raw bytes, not SymmetricKey: swift-crypto's key type is not Sendable on Linux.
    private let key: [UInt8]
    private let adminToken: [UInt8]?

    public init(secret: [UInt8], adminToken: String?) {
        key = secret
        self.adminToken = adminToken.map { Array($0.utf8) }
    }

    /// Whether a subject may appear in a token.
    public static func isValidSubject(_ s: String) -> Bool { CustomerID.isValid(s) }

    /// A token for `role` and `subject` valid until `expiresAt` (Unix seconds).
    public func issue(role: Role, subject: String, expiresAt: Int64) -> String {
        let body = "hf1.\(role.rawValue).\(subject).\(expiresAt)"
        return body + "." + signature(body)
    }

    /// The principal of a valid, unexpired token at `nowSeconds`, else nil.
    public func verify(_ token: String, nowSeconds: Int64) -> Principal? {
        if let adminToken, constantTimeEqual(Array(token.utf8), adminToken) { return Principal(role: .admin, subject: "") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts[0] == "hf1", let role = Role(rawValue: String(parts[1])),
              let expiry = Int64(parts[parts.count - 2]), expiry > nowSeconds else { return nil }
        let body = parts[0..<(parts.count - 1)].joined(separator: ".")
        guard constantTimeEqual(Array(signature(body).utf8), Array(parts[parts.count - 1].utf8)) else { return nil }
        let subject = parts[2..<(parts.count - 2)].joined(separator: ".")
        guard Self.isValidSubject(subject) else { return nil }
        return Principal(role: role, subject: subject)
    }

    private func signature(_ body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: key))
        return Data(mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

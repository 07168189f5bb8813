/// An SMS gateway adapter (Twilio-like services plug in here).
public protocol SMSAdapter: Sendable {
    /// Sends a text message to a person; how a recipient maps to a phone number is the adapter's business.
    func sendSMS(to recipient: Recipient, text: String)
}

/// The default SMS and push adapter: writes what would be sent to a log sink's file.
public struct LogAdapter: SMSAdapter, PushAdapter {
    private let log: LogSink
    /// An adapter writing through `log`.
    public init(log: LogSink) { self.log = log }
    public func sendSMS(to recipient: Recipient, text: String) {
        log.write("{\"channel\":\"sms\",\"to\":\(LogSink.jsonString("\(recipient)")),\"text\":\(LogSink.jsonString(text))}")
    }
    public func sendPush(to recipient: Recipient, title: String, text: String) {
        log.write("{\"channel\":\"push\",\"to\":\(LogSink.jsonString("\(recipient)")),\"title\":\(LogSink.jsonString(title)),\"text\":\(LogSink.jsonString(text))}")
    }
}

import JSON

/// The default SMS and push adapter: writes what would be sent to a log sink's file.
public struct LogAdapter: SMSAdapter, PushAdapter {
    private let log: LogSink
    /// An adapter writing through `log`.
    public init(log: LogSink) { self.log = log }
    public func sendSMS(to recipient: Recipient, text: String) {
        log.write(Self.smsLine(to: recipient, text: text))
    }
    public func sendPush(to recipient: Recipient, title: String, text: String) {
        log.write(Self.pushLine(to: recipient, title: title, text: text))
    }

    /// `{"channel":"sms","to":…,"text":…}`.
    static func smsLine(to recipient: Recipient, text: String) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + text.utf8.count)
        w.beginObject()
        w.key("channel"); w.string("sms")
        w.key("to"); w.string("\(recipient)")
        w.key("text"); w.string(text)
        w.endObject()
        return w.bytes
    }

    /// `{"channel":"push","to":…,"title":…,"text":…}`.
    static func pushLine(to recipient: Recipient, title: String, text: String) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + title.utf8.count + text.utf8.count)
        w.beginObject()
        w.key("channel"); w.string("push")
        w.key("to"); w.string("\(recipient)")
        w.key("title"); w.string(title)
        w.key("text"); w.string(text)
        w.endObject()
        return w.bytes
    }
}

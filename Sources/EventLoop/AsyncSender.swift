/// Sends messages to an ``AsyncWakeup`` from any thread.
public struct AsyncSender<Message: Sendable>: Sendable {
    let mailbox: AsyncMailbox<Message>

    /// Queues `message` and wakes the loop; false when the wakeup is closed (the message is dropped).
    @discardableResult
    public func send(_ message: Message) -> Bool { mailbox.send(message) }
}

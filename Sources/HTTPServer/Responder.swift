/// Completes one request, now or later, on the loop thread.
///
/// Responses to pipelined requests go out in request order whatever order responders complete in. A responder
/// dropped without answering sends 500 `internal_error`, so a forgotten path cannot hang a client. Loop-owned:
/// not `Sendable`; hand work off as values (``EventLoop/WorkQueue``) and complete in the completion.
public final class Responder {
    private weak var connection: HTTPConnectionHandler?
    private let sequence: UInt64
    private let isHead: Bool
    /// Where a response goes when no connection is behind this responder (a request relayed from elsewhere).
    private let sink: ((HTTPResponse) -> Void)?
    /// Whether ``respond(_:)`` ran.
    public private(set) var isCompleted = false

    init(connection: HTTPConnectionHandler, sequence: UInt64, isHead: Bool) {
        self.connection = connection
        self.sequence = sequence
        self.isHead = isHead
        sink = nil
    }

    /// A responder for a request that did not come from a socket of this server (another engine relayed it): the
    /// response, or 500 `internal_error` when the handler drops the responder unanswered, goes to `sink` once.
    public init(sink: @escaping (HTTPResponse) -> Void) {
        sequence = 0
        isHead = false
        self.sink = sink
    }

    /// Sends `response`. Later calls are ignored. A closed connection drops it silently.
    public func respond(_ response: HTTPResponse) {
        guard !isCompleted else { return }
        isCompleted = true
        if let sink { sink(response); return }
        connection?.complete(sequence: sequence, response: response, isHead: isHead)
    }

    /// Sends `error` as its JSON body and status.
    public func fail(_ error: APIError) { respond(.error(error)) }

    /// Whether the client is still connected (a long job may skip work for a gone client).
    public var isConnected: Bool { sink != nil || (connection?.isOpen ?? false) }

    deinit {
        if !isCompleted, let sink {
            sink(.error(APIError(.internalError, "the handler did not answer")))
        } else if !isCompleted {
            connection?.complete(sequence: sequence,
                                 response: .error(APIError(.internalError, "the handler did not answer")),
                                 isHead: isHead)
        }
    }
}

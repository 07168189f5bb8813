import HTTPServer
import Vocabulary

/// What tracking asks of orders: who holds an order (its courier is followed) and who placed it (only they may
/// follow it). The orders service answers.
protocol OrderDirectory: AnyObject {
    /// The courier currently holding an order (dispatched, accepted or picked up), if any.
    func courier(of order: OrderID) -> CourierID?
    /// The customer who placed an order, nil if there is no such order. `answer` runs on the loop: at once when the
    /// directory knows the order (a live one), else after a store read made off the loop.
    func customer(of order: OrderID, _ answer: @escaping (CustomerID?) -> Void)
}

extension TrackingHub: EngineService {
    func registerWebSockets(_ server: HTTPServer) {
        // A frame limit of its own: wslay refuses a larger message with 1009 before buffering it.
        var track = server.configuration.webSocket
        track.maxMessageBytes = configuration.maxTrackMessageBytes
        server.addWebSocketRoute("/v1/ws/track", configuration: track, accept: { [unowned self] in self.accept($0) },
                                 onOpen: { [unowned self] in self.open($0, $1) })
    }
}

import HTTPServer
import Marketplace
import Storage
import Vocabulary

/// Who carried an order and when: what the position history needs to answer `GET /v1/orders/{id}/track`.
struct OrderLeg: Sendable, Equatable {
    var courier: CourierID
    /// When the courier picked the order up.
    var pickedUpMs: Int64
    /// When the order was delivered (or otherwise ended after pick-up); nil while it is on board.
    var endedMs: Int64?
}

extension OrdersService {
    /// The leg of order `id` as `principal` may see it (its customer, its courier, a dispatcher or admin); nil
    /// when the order has not been picked up. The store is read on a worker; `done` runs on the loop.
    /// - Fails with `order_not_found` / `forbidden` as `GET /v1/orders/{id}` would.
    func leg(of id: OrderID, for principal: Principal, _ done: @escaping (Result<OrderLeg?, APIError>) -> Void) {
        let viewer: ActorRef
        do { viewer = try actor(principal) } catch {
            done(.failure(error))
            return
        }
        let book = self.book, store = self.store
        let read: @Sendable () -> Result<OrderLeg?, APIError> = {
            let order: OrderRecord
            do throws(MarketplaceError) { order = try book.order(id, viewer: viewer) } catch { return .failure(OrderAPIErrors.apiError(error)) }
            let events: [OrderEvent]
            do { events = try store.events(of: id) } catch {
                return .failure(APIError(.unavailable, "the order's events could not be read"))
            }
            guard let pickedUp = events.first(where: { $0.to == .pickedUp }) else { return .success(nil) }
            guard let courier = order.courierID else { return .success(nil) }
            let ended = events.first(where: { $0.to.isTerminal && $0.atMs >= pickedUp.atMs })?.atMs
            return .success(OrderLeg(courier: courier, pickedUpMs: pickedUp.atMs, endedMs: ended))
        }
        do { try workers.run(read, completion: done) } catch {
            done(.failure(APIError(.unavailable, "the order's events could not be read")))
        }
    }
}

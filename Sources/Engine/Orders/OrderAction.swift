/// A status change a client asks for over HTTP (`POST /v1/orders/{id}/<action>`).
enum OrderAction: String {
    case cancel
    case pickUp = "pickup"
    case deliver
    case fail
}

import HTTPServer

extension Engine {
    func registerWebSockets(_ server: HTTPServer) {
        for register in webSocketRegistrations { register(self, server) }
    }
}

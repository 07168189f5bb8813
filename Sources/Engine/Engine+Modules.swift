extension Engine {
    /// Installs each module's loop-side state, routes, WebSocket endpoints, tick work and stop work, before the
    /// listeners bind. Each module's `install…` lives in its own folder under Sources/Engine; add one line here.
    func installModules() throws {
        try installRouting()
        try installDispatch()
        try installOrders()
        try installDemo()
        try installTracking(configuration.tracking)
    }
}

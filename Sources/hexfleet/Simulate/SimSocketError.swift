/// A socket the simulator needs could not be set up or used.
struct SimSocketError: Error, CustomStringConvertible {
    /// What failed, with the errno text.
    var description: String
}

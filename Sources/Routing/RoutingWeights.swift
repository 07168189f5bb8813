/// One customization of the road graph: a weight (milliseconds) per forward edge and the hierarchy built for it.
///
/// Immutable and `Sendable`: the free-flow instance lives as long as the network; a live instance is built on a worker
/// thread and swapped in whole, so a query holding the old one finishes consistently.
public final class RoutingWeights: Sendable {
    /// Milliseconds per forward edge of the graph.
    public let weightsMs: [UInt32]
    /// The hierarchy contracted under `weightsMs`.
    public let hierarchy: ContractionHierarchy
    /// A counter that grows with each customization (0 = free flow).
    public let generation: Int

    init(weightsMs: [UInt32], hierarchy: ContractionHierarchy, generation: Int) {
        self.weightsMs = weightsMs
        self.hierarchy = hierarchy
        self.generation = generation
    }
}

import Vocabulary

/// The vertices of one cell, in H3's order (counter-clockwise), held inline: at most 10, no heap.
///
/// Hexagons have 6 vertices and pentagons 5; Class III cells that cross an icosahedron edge get
/// an extra "distortion" vertex where each cell edge crosses it.
public struct CellBoundary: RandomAccessCollection, Sendable, Equatable {
    /// Most vertices a cell boundary can have.
    public static let capacity = 10

    @usableFromInline var storage: (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double,
                                    Double, Double, Double, Double, Double, Double, Double, Double, Double, Double)
    @usableFromInline var length: Int

    /// An empty boundary.
    @inlinable
    public init() {
        storage = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        length = 0
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { length }

    /// The vertex at `position` (radians); `position` must be in `indices`.
    @inlinable
    public subscript(position: Int) -> LatLng {
        precondition(position >= 0 && position < length, "CellBoundary index out of range")
        return withUnsafeBytes(of: storage) { raw in
            let d = raw.bindMemory(to: Double.self)
            return LatLng(lat: d[2 * position], lng: d[2 * position + 1])
        }
    }

    /// Appends a vertex; beyond `capacity` it is dropped (H3 never produces more).
    @inlinable
    mutating func append(_ p: LatLng) {
        guard length < CellBoundary.capacity else { return }
        let n = length
        withUnsafeMutableBytes(of: &storage) { raw in
            let d = raw.bindMemory(to: Double.self)
            d[2 * n] = p.lat
            d[2 * n + 1] = p.lng
        }
        length += 1
    }

    public static func == (a: CellBoundary, b: CellBoundary) -> Bool { a.elementsEqual(b) }
}

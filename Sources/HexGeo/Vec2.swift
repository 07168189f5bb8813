/// A point on a face's hex2d plane (x along the i axis).
@usableFromInline
struct Vec2: Sendable {
    @usableFromInline var x: Double
    @usableFromInline var y: Double
    @inlinable init(x: Double, y: Double) { self.x = x; self.y = y }

    @inlinable var magnitude: Double { (x * x + y * y).squareRoot() }

    /// Intersection of line p0–p1 with line p2–p3 (assumed to cross).
    @inlinable
    static func intersection(_ p0: Vec2, _ p1: Vec2, _ p2: Vec2, _ p3: Vec2) -> Vec2 {
        let s1x = p1.x - p0.x, s1y = p1.y - p0.y
        let s2x = p3.x - p2.x, s2y = p3.y - p2.y
        let t = (s2x * (p0.y - p2.y) - s2y * (p0.x - p2.x)) / (-s2x * s1y + s1x * s2y)
        return Vec2(x: p0.x + (t * s1x), y: p0.y + (t * s1y))
    }

    @inlinable
    func almostEquals(_ o: Vec2) -> Bool {
        abs(x - o.x) < H3Const.floatEpsilon && abs(y - o.y) < H3Const.floatEpsilon
    }
}

/// Hexagon coordinates on one icosahedron face: three axes 120° apart (i, j, k), kept normalized
/// (non-negative, at least one zero) as in H3's `coordijk.h`.
@usableFromInline
struct CoordIJK: Equatable, Sendable {
    @usableFromInline var i: Int
    @usableFromInline var j: Int
    @usableFromInline var k: Int

    @inlinable init(_ i: Int, _ j: Int, _ k: Int) { self.i = i; self.j = j; self.k = k }

    @usableFromInline static let zero = CoordIJK(0, 0, 0)

    /// Unit vector for each direction digit 0…6.
    @inlinable
    static func unit(_ digit: Int) -> CoordIJK {
        CoordIJK((digit >> 2) & 1, (digit >> 1) & 1, digit & 1)
    }

    @inlinable static func + (a: CoordIJK, b: CoordIJK) -> CoordIJK { CoordIJK(a.i + b.i, a.j + b.j, a.k + b.k) }
    @inlinable static func - (a: CoordIJK, b: CoordIJK) -> CoordIJK { CoordIJK(a.i - b.i, a.j - b.j, a.k - b.k) }
    @inlinable static func * (a: CoordIJK, s: Int) -> CoordIJK { CoordIJK(a.i * s, a.j * s, a.k * s) }

    /// Removes negatives, then the common minimum.
    @inlinable @inline(__always)
    mutating func normalize() {
        if i < 0 { j &-= i; k &-= i; i = 0 }
        if j < 0 { i &-= j; k &-= j; j = 0 }
        if k < 0 { i &-= k; j &-= k; k = 0 }
        var m = i < j ? i : j
        if k < m { m = k }
        if m > 0 { i &-= m; j &-= m; k &-= m }
    }

    @inlinable
    func normalized() -> CoordIJK { var c = self; c.normalize(); return c }

    /// The direction digit of a unit vector, or 7 when this is not one.
    @inlinable
    var digit: Int {
        let c = normalized()
        guard c.i <= 1, c.j <= 1, c.k <= 1 else { return 7 }
        let d = (c.i << 2) | (c.j << 1) | c.k
        return d == 7 ? 7 : d
    }

    /// Hex2d plane coordinates of this cell centre.
    @inlinable
    var hex2d: Vec2 {
        let a = i - k, b = j - k
        return Vec2(x: Double(a) - 0.5 * Double(b), y: Double(b) * H3Const.sqrt3Over2)
    }

    /// The containing cell of a hex2d point (H3's quantization, bit for bit).
    @inlinable
    init(hex2d v: Vec2) {
        let a1 = abs(v.x), a2 = abs(v.y)
        let x2 = a2 * H3Const.rsin60
        let x1 = a1 + x2 / 2.0
        let m1 = Int(x1), m2 = Int(x2)
        let r1 = x1 - Double(m1), r2 = x2 - Double(m2)
        var ni: Int, nj: Int
        if r1 < 0.5 {
            if r1 < 1.0 / 3.0 {
                ni = m1
                nj = r2 < (1.0 + r1) / 2.0 ? m2 : m2 + 1
            } else {
                nj = r2 < (1.0 - r1) ? m2 : m2 + 1
                ni = ((1.0 - r1) <= r2 && r2 < (2.0 * r1)) ? m1 + 1 : m1
            }
        } else {
            if r1 < 2.0 / 3.0 {
                nj = r2 < (1.0 - r1) ? m2 : m2 + 1
                ni = ((2.0 * r1 - 1.0) < r2 && r2 < (1.0 - r1)) ? m1 : m1 + 1
            } else {
                ni = m1 + 1
                nj = r2 < (r1 / 2.0) ? m2 : m2 + 1
            }
        }
        if v.x < 0.0 {
            if nj % 2 == 0 {
                let diff = ni - nj / 2
                ni = ni - 2 * diff
            } else {
                let diff = ni - (nj + 1) / 2
                ni = ni - (2 * diff + 1)
            }
        }
        if v.y < 0.0 {
            ni = ni - (2 * nj + 1) / 2
            nj = -nj
        }
        self.init(ni, nj, 0)
        normalize()
    }

    // MARK: Aperture-7 hierarchy

    /// n/7 rounded half away from zero: H3's `lround(n * (1/7))` without the libm call. A seventh's
    /// fraction is never within 1/14 of one half, so the double product rounds the same way.
    @inlinable @inline(__always)
    static func roundedSeventh(_ n: Int) -> Int { n >= 0 ? (n &+ 3) / 7 : -((3 &- n) / 7) }

    /// Parent in a counter-clockwise (Class III → Class II) aperture 7 step.
    @inlinable @inline(__always)
    mutating func upAp7() {
        let a = i - k, b = j - k
        i = CoordIJK.roundedSeventh(3 &* a &- b)
        j = CoordIJK.roundedSeventh(a &+ 2 &* b)
        k = 0
        normalize()
    }

    /// Parent in a clockwise aperture 7 step.
    @inlinable @inline(__always)
    mutating func upAp7r() {
        let a = i - k, b = j - k
        i = CoordIJK.roundedSeventh(2 &* a &+ b)
        j = CoordIJK.roundedSeventh(3 &* b &- a)
        k = 0
        normalize()
    }

    /// Centre child, counter-clockwise aperture 7.
    @inlinable @inline(__always)
    mutating func downAp7() {
        let ni = 3 * i + j, nj = 3 * j + k, nk = i + 3 * k
        i = ni; j = nj; k = nk
        normalize()
    }

    /// Centre child, clockwise aperture 7.
    @inlinable @inline(__always)
    mutating func downAp7r() {
        let ni = 3 * i + k, nj = i + 3 * j, nk = j + 3 * k
        i = ni; j = nj; k = nk
        normalize()
    }

    /// Aperture 3 counter-clockwise (substrate grid for vertices).
    @inlinable @inline(__always)
    mutating func downAp3() {
        let ni = 2 * i + j, nj = 2 * j + k, nk = i + 2 * k
        i = ni; j = nj; k = nk
        normalize()
    }

    /// Aperture 3 clockwise.
    @inlinable @inline(__always)
    mutating func downAp3r() {
        let ni = 2 * i + k, nj = i + 2 * j, nk = j + 2 * k
        i = ni; j = nj; k = nk
        normalize()
    }

    /// Moves one step in `digit`'s direction (no-op for 0 and 7).
    @inlinable @inline(__always)
    mutating func move(_ digit: Int) {
        guard digit > 0 && digit < 7 else { return }
        self = self + CoordIJK.unit(digit)
        normalize()
    }

    @inlinable @inline(__always)
    mutating func rotate60ccw() {
        let ni = i + k, nj = i + j, nk = j + k
        i = ni; j = nj; k = nk
        normalize()
    }

    @inlinable @inline(__always)
    mutating func rotate60cw() {
        let ni = i + j, nj = j + k, nk = i + k
        i = ni; j = nj; k = nk
        normalize()
    }

    /// Grid distance between two normalized coordinates.
    @inlinable
    static func distance(_ a: CoordIJK, _ b: CoordIJK) -> Int {
        let d = (a - b).normalized()
        let x = abs(d.i), y = abs(d.j), z = abs(d.k)
        return x > y ? (x > z ? x : z) : (y > z ? y : z)
    }
}

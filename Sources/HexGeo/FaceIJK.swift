import Foundation

/// A cell position as an icosahedron face plus ijk coordinates on that face's grid
/// (H3's `faceijk.c`: gnomonic projection around each face centre).
@usableFromInline
struct FaceIJK: Sendable {
    @usableFromInline var face: Int
    @usableFromInline var coord: CoordIJK
    @inlinable init(face: Int, coord: CoordIJK) { self.face = face; self.coord = coord }

    /// Result of moving a coordinate that left its face's triangle.
    @usableFromInline
    enum Overage { case none, faceEdge, newFace }

    @inlinable static func isClassIII(_ res: Int) -> Bool { res & 1 == 1 }

    // MARK: Face geometry

    @inlinable
    static func center(_ face: Int) -> Vec3 {
        Vec3(x: h3FaceCenterXYZ[3 * face], y: h3FaceCenterXYZ[3 * face + 1], z: h3FaceCenterXYZ[3 * face + 2])
    }

    /// North/east tangent directions at each face centre, computed once with the same arithmetic as on demand.
    @usableFromInline
    static let faceBasis: [(north: Vec3, east: Vec3)] = (0..<20).map { center($0).tangentBasis() }

    /// The face whose centre is nearest, and the squared chord distance to it.
    @inlinable
    static func closestFace(_ v: Vec3) -> (face: Int, sqd: Double) {
        var face = 0
        var sqd = 5.0
        h3FaceCenterXYZ.withUnsafeBufferPointer { c in
            for f in 0..<20 {
                let dx = c[3 * f] - v.x, dy = c[3 * f + 1] - v.y, dz = c[3 * f + 2] - v.z
                let d = dx * dx + dy * dy + dz * dz
                if d < sqd { face = f; sqd = d }
            }
        }
        return (face, sqd)
    }

    /// Azimuth at face centre `face` towards `p`.
    @inlinable
    static func azimuthFromCenter(_ face: Int, _ p: Vec3) -> Double {
        let c = center(face)
        let basis = faceBasis[face]
        var proj = Vec3.combine(1.0, p, -p.dot(c), c)
        proj.normalize()
        return atan2(proj.dot(basis.east), proj.dot(basis.north))
    }

    /// Face and hex2d position of a unit vector at `res`.
    @inlinable
    static func hex2d(of p: Vec3, res: Int) -> (face: Int, v: Vec2) {
        let (face, sqd) = closestFace(p)
        var r = acos(1 - sqd * 0.5)
        if r < H3Const.epsilon { return (face, Vec2(x: 0, y: 0)) }
        var theta = H3Const.positiveAngle(
            h3FaceAxisAzimuthI[face] - H3Const.positiveAngle(azimuthFromCenter(face, p)))
        if isClassIII(res) { theta = H3Const.positiveAngle(theta - H3Const.ap7RotRads) }
        r = tan(r)
        r *= H3Const.invRes0UGnomonic
        for _ in 0..<res { r *= H3Const.sqrt7 }
        return (face, Vec2(x: r * cos(theta), y: r * sin(theta)))
    }

    /// The unit vector of hex2d point `v` on `face` at `res`; `substrate` for vertex grids.
    @inlinable
    static func vec3(hex2d v: Vec2, face: Int, res: Int, substrate: Bool) -> Vec3 {
        var r = v.magnitude
        if r < H3Const.epsilon { return center(face) }
        var theta = atan2(v.y, v.x)
        for _ in 0..<res { r *= H3Const.rsqrt7 }
        if substrate {
            r *= H3Const.oneThird
            if isClassIII(res) { r *= H3Const.rsqrt7 }
        }
        r *= H3Const.res0UGnomonic
        r = atan(r)
        if !substrate && isClassIII(res) { theta = H3Const.positiveAngle(theta + H3Const.ap7RotRads) }
        theta = H3Const.positiveAngle(h3FaceAxisAzimuthI[face] - theta)
        let basis = faceBasis[face]
        let dir = Vec3.combine(cos(theta), basis.north, sin(theta), basis.east)
        var out = Vec3.combine(cos(r), center(face), sin(r), dir)
        out.normalize()
        return out
    }

    /// The cell containing `p` at `res`.
    @inlinable
    init(_ p: Vec3, res: Int) {
        let (face, v) = FaceIJK.hex2d(of: p, res: res)
        self.init(face: face, coord: CoordIJK(hex2d: v))
    }

    /// Centre of this cell at `res`.
    @inlinable
    func centerVec3(res: Int) -> Vec3 {
        FaceIJK.vec3(hex2d: coord.hex2d, face: face, res: res, substrate: false)
    }

    // MARK: Overage

    /// Moves a coordinate past its face's edge onto the neighbouring face (Class II grid; `substrate`
    /// for the aperture-3 vertex grid). `pentLeading4` corrects for a pentagon's deleted k subsequence.
    @inlinable
    mutating func adjustOverageClassII(res: Int, pentLeading4: Bool, substrate: Bool) -> Overage {
        var maxDim = Int(h3MaxDimByCIIRes[res])
        if substrate { maxDim *= 3 }
        let sum = coord.i + coord.j + coord.k
        if substrate && sum == maxDim { return .faceEdge }
        guard sum > maxDim else { return .none }
        var overage = Overage.newFace
        let quadrant: Int
        if coord.k > 0 {
            if coord.j > 0 {
                quadrant = 3
            } else {
                quadrant = 2
                if pentLeading4 {
                    let origin = CoordIJK(maxDim, 0, 0)
                    var tmp = coord - origin
                    tmp.rotate60cw()
                    coord = tmp + origin
                }
            }
        } else {
            quadrant = 1
        }
        let base = (face * 4 + quadrant) * 5
        face = Int(h3FaceNeighbors[base])
        let rotations = Int(h3FaceNeighbors[base + 4])
        for _ in 0..<rotations { coord.rotate60ccw() }
        var unitScale = Int(h3UnitScaleByCIIRes[res])
        if substrate { unitScale *= 3 }
        let translate = CoordIJK(Int(h3FaceNeighbors[base + 1]), Int(h3FaceNeighbors[base + 2]),
                                 Int(h3FaceNeighbors[base + 3]))
        coord = coord + translate * unitScale
        coord.normalize()
        if substrate && coord.i + coord.j + coord.k == maxDim { overage = .faceEdge }
        return overage
    }

    /// Repeats the overage adjustment of a pentagon vertex until it settles on one face.
    @inlinable
    mutating func adjustPentagonVertexOverage(res: Int) -> Overage {
        var overage: Overage
        repeat {
            overage = adjustOverageClassII(res: res, pentLeading4: false, substrate: true)
        } while overage == .newFace
        return overage
    }
}

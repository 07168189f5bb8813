/// Cell boundaries (H3's `_faceIjkToCellBoundary` / `_faceIjkPentToCellBoundary` in `faceijk.c`).
extension H3 {
    /// Substrate-grid vertex offsets, counter-clockwise from the i axis (Class II: aperture 33r).
    @usableFromInline static let vertexOffsetsClassII: [CoordIJK] = [
        CoordIJK(2, 1, 0), CoordIJK(1, 2, 0), CoordIJK(0, 2, 1), CoordIJK(0, 1, 2), CoordIJK(1, 0, 2), CoordIJK(2, 0, 1),
    ]
    /// Substrate-grid vertex offsets for Class III (aperture 33r7r).
    @usableFromInline static let vertexOffsetsClassIII: [CoordIJK] = [
        CoordIJK(5, 4, 0), CoordIJK(1, 5, 0), CoordIJK(0, 5, 4), CoordIJK(0, 1, 5), CoordIJK(4, 0, 5), CoordIJK(5, 0, 1),
    ]

    /// Vertices of the cell centred at `center` on the substrate grid; the centre moves to that grid too.
    /// Returns the substrate resolution (res, or res+1 for Class III).
    @inlinable
    static func substrateVertices(_ center: inout FaceIJK, res: Int, count: Int,
                                  into verts: inout (FaceIJK, FaceIJK, FaceIJK, FaceIJK, FaceIJK, FaceIJK)) -> Int {
        let classIII = FaceIJK.isClassIII(res)
        center.coord.downAp3()
        center.coord.downAp3r()
        var adjRes = res
        if classIII {
            center.coord.downAp7r()
            adjRes += 1
        }
        let offsets = classIII ? vertexOffsetsClassIII : vertexOffsetsClassII
        withUnsafeMutableBytes(of: &verts) { raw in
            let v = raw.bindMemory(to: FaceIJK.self)
            for n in 0..<count {
                v[n] = FaceIJK(face: center.face, coord: (center.coord + offsets[n]).normalized())
            }
        }
        return adjRes
    }

    /// The two icosahedron-face corners (hex2d, substrate scale) bounding the edge towards quadrant `dir`.
    @inlinable
    static func faceEdge(quadrant dir: Int, adjRes: Int) -> (Vec2, Vec2) {
        let maxDim = Double(h3MaxDimByCIIRes[adjRes])
        let v0 = Vec2(x: 3.0 * maxDim, y: 0.0)
        let v1 = Vec2(x: -1.5 * maxDim, y: 3.0 * H3Const.sqrt3Over2 * maxDim)
        let v2 = Vec2(x: -1.5 * maxDim, y: -3.0 * H3Const.sqrt3Over2 * maxDim)
        switch dir {
        case 1: return (v0, v1)
        case 3: return (v1, v2)
        default: return (v2, v0)
        }
    }

    @inlinable
    static func adjacentFaceDir(_ a: Int, _ b: Int) -> Int { Int(h3AdjacentFaceDir[a * 20 + b]) }

    @inlinable
    static func hexagonBoundary(_ fijk: FaceIJK, res: Int) -> CellBoundary {
        var center = fijk
        var verts = (fijk, fijk, fijk, fijk, fijk, fijk)
        let adjRes = substrateVertices(&center, res: res, count: 6, into: &verts)
        let classIII = FaceIJK.isClassIII(res)
        var out = CellBoundary()
        var lastFace = -1
        var lastOverage = FaceIJK.Overage.none
        withUnsafeBytes(of: verts) { raw in
            let vs = raw.bindMemory(to: FaceIJK.self)
            for vert in 0..<7 {
                let v = vert % 6
                var f = vs[v]
                let overage = f.adjustOverageClassII(res: adjRes, pentLeading4: false, substrate: true)
                if classIII && vert > 0 && f.face != lastFace && lastOverage != .faceEdge {
                    let orig0 = vs[(v + 5) % 6].coord.hex2d
                    let orig1 = vs[v].coord.hex2d
                    let face2 = lastFace == center.face ? f.face : lastFace
                    let (e0, e1) = faceEdge(quadrant: adjacentFaceDir(center.face, face2), adjRes: adjRes)
                    let inter = Vec2.intersection(orig0, orig1, e0, e1)
                    if !(orig0.almostEquals(inter) || orig1.almostEquals(inter)) {
                        out.append(FaceIJK.vec3(hex2d: inter, face: center.face, res: adjRes, substrate: true).latLng)
                    }
                }
                if vert < 6 {
                    out.append(FaceIJK.vec3(hex2d: f.coord.hex2d, face: f.face, res: adjRes, substrate: true).latLng)
                }
                lastFace = f.face
                lastOverage = overage
            }
        }
        return out
    }

    @inlinable
    static func pentagonBoundary(_ fijk: FaceIJK, res: Int) -> CellBoundary {
        var center = fijk
        var verts = (fijk, fijk, fijk, fijk, fijk, fijk)
        let adjRes = substrateVertices(&center, res: res, count: 5, into: &verts)
        let classIII = FaceIJK.isClassIII(res)
        var out = CellBoundary()
        var last = FaceIJK(face: 0, coord: .zero)
        withUnsafeBytes(of: verts) { raw in
            let vs = raw.bindMemory(to: FaceIJK.self)
            for vert in 0..<6 {
                let v = vert % 5
                var f = vs[v]
                _ = f.adjustPentagonVertexOverage(res: adjRes)
                if classIII && vert > 0 {
                    // Bring the last vertex into this vertex's neighbouring-face frame, then cut the face edge.
                    var tmp = f
                    let orig0 = last.coord.hex2d
                    let toLast = max(0, adjacentFaceDir(tmp.face, last.face))   // always adjacent for Class III pentagons
                    let base = (tmp.face * 4 + toLast) * 5
                    tmp.face = Int(h3FaceNeighbors[base])
                    var ijk = tmp.coord
                    for _ in 0..<Int(h3FaceNeighbors[base + 4]) { ijk.rotate60ccw() }
                    let translate = CoordIJK(Int(h3FaceNeighbors[base + 1]), Int(h3FaceNeighbors[base + 2]),
                                             Int(h3FaceNeighbors[base + 3]))
                    ijk = (ijk + translate * (Int(h3UnitScaleByCIIRes[adjRes]) * 3)).normalized()
                    let orig1 = ijk.hex2d
                    let (e0, e1) = faceEdge(quadrant: adjacentFaceDir(tmp.face, f.face), adjRes: adjRes)
                    let inter = Vec2.intersection(orig0, orig1, e0, e1)
                    out.append(FaceIJK.vec3(hex2d: inter, face: tmp.face, res: adjRes, substrate: true).latLng)
                }
                if vert < 5 {
                    out.append(FaceIJK.vec3(hex2d: f.coord.hex2d, face: f.face, res: adjRes, substrate: true).latLng)
                }
                last = f
            }
        }
        return out
    }
}

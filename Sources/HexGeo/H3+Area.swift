import Foundation
import Vocabulary

/// Exact cell areas on the sphere (H3's `area.c`: signed triangle areas, Kahan-summed).
extension H3 {
    /// Signed area of the spherical triangle (pole, x, y), after Cagnoli.
    @inlinable
    static func cagnoli(_ x: LatLng, _ y: LatLng) -> Double {
        let xl = x.lat / 2.0 + Double.pi / 4.0
        let yl = y.lat / 2.0 + Double.pi / 4.0
        let sa = sin(xl) * sin(yl)
        let ca = cos(xl) * cos(yl)
        let d = y.lng - x.lng
        let sd = sin(d), cd = cos(d)
        return -2.0 * atan2(sa * sd, sa * cd + ca)
    }

    /// Area in steradians of a closed loop of vertices (counter-clockwise), as H3 sums it.
    @inlinable
    static func loopAreaRads2<C: RandomAccessCollection>(_ verts: C) -> Double where C.Element == LatLng, C.Index == Int {
        var sum = 0.0, comp = 0.0
        @inline(__always) func add(_ x: Double) {
            let y = x - comp
            let t = sum + y
            comp = (t - sum) - y
            sum = t
        }
        let n = verts.count
        for i in 0..<n { add(cagnoli(verts[verts.startIndex + i], verts[verts.startIndex + (i + 1) % n])) }
        if sum < 0.0 { add(4.0 * Double.pi) }
        return sum
    }

    /// Area of `c` in steradians.
    @inlinable
    public static func cellAreaRads2(_ c: H3Cell) throws(HexGeoError) -> Double {
        loopAreaRads2(try cellToBoundary(c))
    }

    /// Area of `c` in square metres on H3's sphere of radius 6,371,007.180918475 m (as `cellAreaM2` in H3).
    @inlinable
    public static func cellAreaM2(_ c: H3Cell) throws(HexGeoError) -> Double {
        var a = try cellAreaRads2(c)
        a *= H3Const.earthRadiusKm * H3Const.earthRadiusKm
        a *= 1000 * 1000
        return a
    }
}

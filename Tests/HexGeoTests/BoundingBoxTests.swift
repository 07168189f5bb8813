import Testing
@testable import HexGeo
import Vocabulary

@Suite struct BoundingBoxTests {
    @Test("a radius box holds every point at that distance and crosses the antimeridian when it must")
    func radiusBox() {
        for (lat, lng) in [(43.73, 7.42), (-16.0, 179.99), (60.0, -179.5), (0.0, 0.0)] {
            let c = LatLng(degrees: lat, lng)
            let box = BoundingBox(around: c, radiusMeters: 25_000)
            for step in 0..<72 {
                let p = Geodesy.destination(from: c, bearing: Double(step) * Double.pi / 36, distanceMeters: 24_999)
                #expect(box.contains(p), "\(lat),\(lng) bearing step \(step)")
            }
            #expect(!box.contains(Geodesy.destination(from: c, bearing: 0, distanceMeters: 25_100)))
        }
        #expect(BoundingBox(around: LatLng(degrees: -16, 179.99), radiusMeters: 25_000).isTransmeridian)
        #expect(BoundingBox(around: LatLng(degrees: 89.9, 0), radiusMeters: 25_000).widthRadians == 2 * Double.pi)
    }
}

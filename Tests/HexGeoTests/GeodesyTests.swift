import Testing
@testable import HexGeo
import Vocabulary

@Suite struct GeodesyTests {
    @Test("distance of one degree of latitude is R·π/180")
    func oneDegree() {
        let d = Geodesy.distanceMeters(LatLng(degrees: 10, 20), LatLng(degrees: 11, 20))
        #expect(abs(d - Geodesy.earthRadiusMeters * Double.pi / 180) < 1e-6)
    }

    @Test("distance across the antimeridian is short")
    func antimeridian() {
        let d = Geodesy.distanceMeters(LatLng(degrees: 0, 179.9), LatLng(degrees: 0, -179.9))
        #expect(abs(d - Geodesy.earthRadiusMeters * 0.2 * Double.pi / 180) < 1e-6)
    }

    @Test("destination then distance round-trips")
    func destinationRoundTrip() {
        let a = LatLng(degrees: 43.73, 7.42)
        let b = Geodesy.destination(from: a, bearing: 1.0, distanceMeters: 1234.5)
        #expect(abs(Geodesy.distanceMeters(a, b) - 1234.5) < 1e-6)
        #expect(abs(Geodesy.initialBearing(from: a, to: b) - 1.0) < 1e-6)
    }

    @Test("coordinate validation rejects NaN and out-of-range degrees")
    func validation() {
        #expect(LatLng.isValidDegrees(lat: 90, lng: -180))
        #expect(!LatLng.isValidDegrees(lat: .nan, lng: 0))
        #expect(!LatLng.isValidDegrees(lat: 90.0001, lng: 0))
        #expect(!LatLng.isValidDegrees(lat: 0, lng: .infinity))
    }
}

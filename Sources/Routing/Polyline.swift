import HexGeo
import Vocabulary

/// The Encoded Polyline Algorithm Format (as published for the Google Maps APIs), precision 5 by default.
public enum Polyline {
    /// Encodes points: each coordinate rounded to 10^-precision degrees, delta-coded, zigzagged and written in
    /// 5-bit groups offset by 63.
    public static func encode(_ points: [LatLng], precision: Int = 5) -> String {
        var scale = 1.0
        for _ in 0..<precision { scale *= 10 }
        var out: [UInt8] = []
        var lastLat = 0, lastLng = 0
        for p in points {
            let lat = Int((p.latDegrees * scale).rounded()), lng = Int((p.lngDegrees * scale).rounded())
            append(lat - lastLat, to: &out)
            append(lng - lastLng, to: &out)
            lastLat = lat
            lastLng = lng
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func append(_ value: Int, to out: inout [UInt8]) {
        var v = UInt(bitPattern: value << 1)
        if value < 0 { v = ~v }
        while v >= 0x20 {
            out.append(UInt8((v & 0x1F) | 0x20) + 63)
            v >>= 5
        }
        out.append(UInt8(v) + 63)
    }

    /// Decodes a polyline; nil when the text is malformed.
    public static func decode(_ text: String, precision: Int = 5) -> [LatLng]? {
        var scale = 1.0
        for _ in 0..<precision { scale *= 10 }
        let bytes = Array(text.utf8)
        var i = 0, lat = 0, lng = 0
        var points: [LatLng] = []
        func next() -> Int? {
            var result = 0, shift = 0
            while true {
                guard i < bytes.count, bytes[i] >= 63, shift < 60 else { return nil }
                let b = Int(bytes[i]) - 63
                i += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20 { break }
            }
            return (result & 1) != 0 ? ~(result >> 1) : (result >> 1)
        }
        while i < bytes.count {
            guard let dLat = next(), let dLng = next() else { return nil }
            lat += dLat
            lng += dLng
            points.append(LatLng(degrees: Double(lat) / scale, Double(lng) / scale))
        }
        return points
    }
}

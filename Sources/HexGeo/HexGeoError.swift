/// Why a HexGeo operation refused its input; cases and raw values mirror H3's `H3ErrorCodes`.
public enum HexGeoError: Int, Error, Sendable, CustomStringConvertible {
    /// The operation failed and no more specific code applies (H3 `E_FAILED`).
    case failed = 1
    /// An argument was outside its domain (H3 `E_DOMAIN`).
    case domain = 2
    /// Latitude or longitude was not finite or out of range (H3 `E_LATLNG_DOMAIN`).
    case latLngDomain = 3
    /// A resolution was outside 0…15 (H3 `E_RES_DOMAIN`).
    case resDomain = 4
    /// A cell id was not a valid H3 cell (H3 `E_CELL_INVALID`).
    case cellInvalid = 5
    /// Pentagon distortion was met that the algorithm cannot handle (H3 `E_PENTAGON`).
    case pentagon = 9
    /// Two cells had resolutions that do not fit the operation (H3 `E_RES_MISMATCH`).
    case resMismatch = 12
    /// A caller-provided buffer was too small (H3 `E_MEMORY_BOUNDS`).
    case memoryBounds = 14
    /// A text form could not be parsed (no H3 counterpart).
    case parse = 100

    public var description: String {
        switch self {
        case .failed: "operation failed"
        case .domain: "argument out of domain"
        case .latLngDomain: "latitude/longitude out of domain"
        case .resDomain: "resolution out of domain"
        case .cellInvalid: "invalid cell"
        case .pentagon: "pentagon distortion encountered"
        case .resMismatch: "resolution mismatch"
        case .memoryBounds: "buffer too small"
        case .parse: "cannot parse input"
        }
    }
}

import HTTPServer

/// The Engine's domain error codes, in one place: a code's name is a contract with clients.
extension APIError.Code {
    public static let invalidCoordinate = APIError.Code("invalid_coordinate", 422)
    public static let invalidStatus = APIError.Code("invalid_status", 422)
    public static let driverNotFound = APIError.Code("driver_not_found", 404)
    public static let staleTimestamp = APIError.Code("stale_timestamp", 409)
    public static let timestampSkew = APIError.Code("timestamp_skew", 422)
    public static let invalidCell = APIError.Code("invalid_cell", 422)
    public static let invalidPolygon = APIError.Code("invalid_polygon", 422)
    public static let invalidToken = APIError.Code("invalid_token", 401)
}

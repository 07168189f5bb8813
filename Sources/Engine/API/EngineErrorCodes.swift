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
    public static let invalidCustomerID = APIError.Code("invalid_customer_id", 400)
    // A platform JWT that was refused, one code per reason (docs/auth.md).
    public static let tokenMalformed = APIError.Code("token_malformed", 401)
    public static let tokenBadSignature = APIError.Code("token_bad_signature", 401)
    public static let tokenWrongIssuer = APIError.Code("token_wrong_issuer", 401)
    public static let tokenWrongAudience = APIError.Code("token_wrong_audience", 401)
    public static let tokenExpired = APIError.Code("token_expired", 401)
    public static let tokenNotYetValid = APIError.Code("token_not_yet_valid", 401)
    public static let tokenUnknownRole = APIError.Code("token_unknown_role", 401)
    public static let tokenBadSubject = APIError.Code("token_bad_subject", 401)
}

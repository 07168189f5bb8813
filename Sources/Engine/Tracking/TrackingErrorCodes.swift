import HTTPServer

/// Error codes of the WebSocket channels, sent as `{"type":"error","code":…,"message":…}`. Names are a contract
/// with clients: added, never renamed.
extension APIError.Code {
    /// An `op` the endpoint does not know.
    public static let unknownOp = APIError.Code("unknown_op", 400)
    /// A bbox that is not `[minLat, minLng, maxLat, maxLng]` in range with min ≤ max.
    public static let invalidBBox = APIError.Code("invalid_bbox", 422)
    /// A connection would exceed its subscription or cell limit.
    public static let tooManySubscriptions = APIError.Code("too_many_subscriptions", 429)
    /// A binary record naming another driver than the connection's.
    public static let foreignDriver = APIError.Code("foreign_driver", 403)
    /// A binary driver frame whose length is not a whole number of 32-byte records.
    public static let badRecord = APIError.Code("bad_record", 400)
}

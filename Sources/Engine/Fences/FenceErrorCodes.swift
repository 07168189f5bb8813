import HTTPServer

/// Error codes of the fence endpoints. Names are a contract with clients: added, never renamed.
extension APIError.Code {
    /// `id` is not a string of 1–64 bytes (or is a reserved word such as `containing`).
    public static let invalidFenceID = APIError.Code("invalid_fence_id", 400)
    /// `shape` is missing, of an unknown type, or its fields are malformed (points, rings, cells).
    public static let invalidShape = APIError.Code("invalid_shape", 400)
    /// `radius_m` (or `max_s`) is not a positive number within the limit.
    public static let invalidRadius = APIError.Code("invalid_radius", 400)
    /// `detect` is not a list of `enter`, `exit`, `inside`, `outside`, `cross`.
    public static let invalidDetect = APIError.Code("invalid_detect", 400)
    /// `dwell_s` is not a number of seconds in 0…86,400.
    public static let invalidDwell = APIError.Code("invalid_dwell", 400)
    /// `statuses` is not a list of driver statuses.
    public static let invalidStatuses = APIError.Code("invalid_statuses", 400)
    /// `drivers` is not a list of unsigned 64-bit driver ids.
    public static let invalidDrivers = APIError.Code("invalid_drivers", 400)
    /// `expires_at_ms` is not a time in milliseconds after now.
    public static let invalidExpires = APIError.Code("invalid_expires", 400)
    /// `meta` is not a JSON object.
    public static let invalidMeta = APIError.Code("invalid_meta", 400)
    /// `meta` is larger than 4 KB once written as JSON.
    public static let metaTooLarge = APIError.Code("meta_too_large", 400)
    /// `webhook` is not an `http://host[:port][/path]` URL.
    public static let invalidWebhook = APIError.Code("invalid_webhook", 400)
    /// The shape would cover more index squares than a fence may.
    public static let fenceTooLarge = APIError.Code("fence_too_large", 400)
    /// The engine holds as many fences as it may.
    public static let tooManyFences = APIError.Code("too_many_fences", 429)
    /// No fence with that id.
    public static let fenceNotFound = APIError.Code("fence_not_found", 404)
    /// A drive-time fence on an engine without a road graph.
    public static let driveTimeUnavailable = APIError.Code("drive_time_unavailable", 400)
}

extension UInt64 {
    /// The SQLite column value for an unsigned id: the same 64 bits as a signed integer,
    /// so every UInt64 round-trips (SQLite integers are signed).
    @inline(__always) var sqlValue: Int64 { Int64(bitPattern: self) }
}

extension Int64 {
    /// The unsigned id stored in a column by `UInt64.sqlValue`.
    @inline(__always) var unsignedID: UInt64 { UInt64(bitPattern: self) }
}

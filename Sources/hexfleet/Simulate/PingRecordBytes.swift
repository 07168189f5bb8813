/// A record's 32 wire bytes, built once per ping (a tuple, so no heap allocation).
struct PingRecordBytes {
    var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
}

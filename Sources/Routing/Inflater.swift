import CZlib

/// Inflates zlib streams (RFC 1950) with the system zlib, reusing one output buffer.
struct Inflater {
    /// Inflates `input` into `output`, which is resized to exactly `expectedSize` bytes.
    ///
    /// - Throws: `RoutingError.badCompression` when the stream is corrupt or its size differs from `expectedSize`.
    static func inflate(_ input: UnsafeRawBufferPointer, expectedSize: Int, into output: inout [UInt8]) throws(RoutingError) {
        guard expectedSize >= 0, expectedSize <= 64 << 20 else {
            throw RoutingError(.badCompression, "blob raw_size \(expectedSize) outside 0…64 MiB")
        }
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: expectedSize + 1))
        var stream = z_stream()
        guard hf_inflate_init(&stream) == Z_OK else { throw RoutingError(.badCompression, "inflateInit failed") }
        defer { inflateEnd(&stream) }
        let status: Int32 = output.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            return CZlib.inflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else {
            throw RoutingError(.badCompression, "zlib stream did not end cleanly (status \(status))")
        }
        guard Int(stream.total_out) == expectedSize else {
            throw RoutingError(.badCompression, "blob inflated to \(stream.total_out) bytes, header says \(expectedSize)")
        }
        output.removeLast()
    }
}

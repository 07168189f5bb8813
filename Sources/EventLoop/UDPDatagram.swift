import CLibUV

/// One received datagram, valid only during the callback: `bytes` points into the socket's receive slab.
public struct UDPDatagram {
    /// The payload (up to the slab chunk; see ``isTruncated``).
    public let bytes: UnsafeRawBufferPointer
    /// The sender's address.
    public let sender: UnsafePointer<sockaddr>
    /// True when the kernel cut the datagram to fit the buffer (`UV_UDP_PARTIAL`); such a datagram must be dropped.
    public let isTruncated: Bool

    /// A datagram over `bytes` from `sender`.
    public init(bytes: UnsafeRawBufferPointer, sender: UnsafePointer<sockaddr>, isTruncated: Bool) {
        self.bytes = bytes
        self.sender = sender
        self.isTruncated = isTruncated
    }
}

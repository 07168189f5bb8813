/// The `positions` message a tracking subscriber receives each tick (docs/websocket.md); the hub builds it in place
/// from the batch's shared bytes (`TrackingHub+Fanout`).
///
/// JSON text: `{"type":"positions","drivers":[…]}`. Binary (`?format=binary`): an 8-byte header — u8 type 1
/// (positions), u8 version 1, u16 reserved 0, u32 driver count, little-endian — then one 32-byte record per driver
/// in the UDP ping record layout.
enum PositionMessage {
    static let binaryType: UInt8 = 1
    static let binaryVersion: UInt8 = 1
    static let binaryHeaderBytes = 8
}

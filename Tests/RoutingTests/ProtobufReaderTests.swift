import Testing
@testable import Routing

@Suite("Protobuf wire decoding")
struct ProtobufReaderTests {
    @Test("varints, zigzag and packed or unpacked repeated fields decode; malformed input throws")
    func decode() throws {
        // field 1 varint 300; field 2 sint64 -3 (zigzag 5); field 3 packed [1, 150]; field 3 unpacked 7.
        let bytes: [UInt8] = [0x08, 0xAC, 0x02, 0x10, 0x05, 0x1A, 0x03, 0x01, 0x96, 0x01, 0x18, 0x07]
        try bytes.withUnsafeBytes { raw in
            var r = ProtobufReader(raw)
            var values: [UInt64] = []
            var signed: Int64 = 0
            var first: UInt64 = 0
            while let (number, wire) = try r.field() {
                switch number {
                case 1: first = try r.varint()
                case 2: signed = try r.signedVarint()
                case 3: try r.appendVarints(wire, to: &values)
                default: try r.skip(wire)
                }
            }
            #expect(first == 300)
            #expect(signed == -3)
            #expect(values == [1, 150, 7])
        }
        for bad: [UInt8] in [[0x08], [0x08, 0x80], [0x1A, 0x05, 0x01], [0x0F], Array(repeating: 0xFF, count: 12)] {
            bad.withUnsafeBytes { raw in
                var r = ProtobufReader(raw)
                #expect(throws: RoutingError.self) {
                    while let (_, wire) = try r.field() { try r.skip(wire) }
                }
            }
        }
    }
}

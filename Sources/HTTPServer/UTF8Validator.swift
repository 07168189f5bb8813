/// An incremental UTF-8 validator (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), fed one
/// fragment at a time so a bad text message fails at its first bad byte rather than at its end.
struct UTF8Validator {
    private var need = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// True when the bytes so far end on a character boundary.
    var isComplete: Bool { need == 0 }

    mutating func reset() { self = UTF8Validator() }

    /// Feeds `bytes`; false at the first byte that cannot continue valid UTF-8.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes {
            if need == 0 {
                if b < 0x80 { continue }
                switch b {
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE, 0xEF: need = 2
                case 0xED: need = 2; upper = 0x9F
                case 0xF0: need = 3; lower = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; upper = 0x8F
                default: return false
                }
                continue
            }
            guard b >= lower, b <= upper else { return false }
            lower = 0x80
            upper = 0xBF
            need -= 1
        }
        return true
    }
}

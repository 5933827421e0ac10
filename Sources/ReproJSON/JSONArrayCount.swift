// Counting a JSON array's elements without parsing it, so that a batch frame can be refused by
// its size before a million elements are built (one 3 MB frame of `{}`s used to cost 3.3 GB).
// A single pass over the bytes: strings (with their escapes) are skipped, nesting is tracked, and
// each comma at depth one separates two elements. Malformed input gives some count; the parser
// that runs afterwards reports what is wrong with it.

public enum JSONArrayCount {
    /// The number of elements of the top-level array in `bytes`, counting no further than
    /// `limit + 1`; nil when the text is not an array (its first non-blank byte is not `[`).
    public static func elements(_ bytes: [UInt8], upTo limit: Int) -> Int? {
        var i = 0
        while i < bytes.count, isBlank(bytes[i]) { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else { return nil }
        i += 1
        var depth = 1, count = 0, sawValue = false, inString = false
        while i < bytes.count, depth > 0 {
            let b = bytes[i]
            if inString {
                if b == UInt8(ascii: "\\") { i += 1 } else if b == UInt8(ascii: "\"") { inString = false }
            } else {
                switch b {
                case UInt8(ascii: "\""): inString = true; if depth == 1 { sawValue = true }
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; if depth == 2 { sawValue = true }
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                case UInt8(ascii: ","):
                    if depth == 1 {
                        count += 1
                        if count > limit { return count }
                    }
                default: if depth == 1, !isBlank(b) { sawValue = true }
                }
            }
            i += 1
        }
        return sawValue || count > 0 ? count + 1 : 0
    }

    private static func isBlank(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }
}

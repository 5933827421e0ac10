// A template's source as jinja2 sees it: UTF-8 bytes with `\r\n` and `\r` turned into `\n`, and
// one trailing newline dropped (jinja2's keep_trailing_newline=False, which Hugging Face keeps).
// Tokens and syntax nodes hold byte offsets into these bytes; `location(of:)` turns an offset
// into line:column only when an error needs it.

struct TemplateSource: Sendable {
    let bytes: [UInt8]

    init(_ text: String) {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var previousWasCR = false
        for b in text.utf8 {
            if b == 0x0D {
                out.append(0x0A)
                previousWasCR = true
                continue
            }
            if b == 0x0A && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = false
            out.append(b)
        }
        if out.last == 0x0A { out.removeLast() }
        bytes = out
    }

    /// Line and column of a byte offset; the column counts Unicode scalars, as an editor would.
    func location(of offset: Int) -> SourceLocation {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var column = 1
        for i in 0..<end {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(line: line, column: column)
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }
}

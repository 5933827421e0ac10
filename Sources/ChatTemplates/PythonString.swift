// Python's str operations that templates use, with Python's exact behaviour rather than
// Foundation's: whitespace is `str.isspace()`, matching is by code points (Swift's String methods
// match canonically equivalent text, Python's do not), case mapping is Unicode's full mapping
// with Python's final-sigma rule, and `split`/`replace` follow CPython's edge cases (`split()`
// drops empty parts, `split(sep)` keeps them, `replace('', x)` inserts between characters).
// Substring search runs on UTF-8 bytes, whose order and boundaries agree with code points.

enum PythonString {
    /// The byte offset of the first occurrence of `needle` in `haystack`.
    static func find(_ needle: String, in haystack: String, from start: Int = 0) -> Int? {
        let h = Array(haystack.utf8)
        let n = Array(needle.utf8)
        return find(n, in: h, from: start)
    }

    static func find(_ n: [UInt8], in h: [UInt8], from start: Int = 0) -> Int? {
        guard !n.isEmpty else { return start <= h.count ? start : nil }
        guard h.count >= n.count else { return nil }
        let first = n[0]
        let last = h.count - n.count
        var i = start
        while i <= last {
            if h[i] == first {
                var k = 1
                while k < n.count && h[i + k] == n[k] { k += 1 }
                if k == n.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// The code point index of a byte offset.
    static func scalarIndex(ofByte offset: Int, in s: String) -> Int {
        s.utf8.prefix(offset).reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// `strip`, `lstrip`, `rstrip`: whitespace, or any of the code points in `chars`.
    static func strip(_ s: String, chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? UTF8Scanning.isSpace(c) }
        let scalars = s.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        if leading {
            while start < end && strippable(scalars[start]) { start = scalars.index(after: start) }
        }
        if trailing {
            while end > start && strippable(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        }
        return String(scalars[start..<end])
    }

    /// `split(sep, maxsplit)`; `fromRight` is `rsplit`.
    static func split(_ s: String, separator: String?, maxSplit: Int, fromRight: Bool = false) throws -> [String] {
        guard let separator else { return splitOnWhitespace(s, maxSplit: maxSplit, fromRight: fromRight) }
        if separator.isEmpty { throw ValueError.runtime("empty separator") }
        var h = Array(s.utf8)
        var n = Array(separator.utf8)
        if fromRight {
            h.reverse()
            n.reverse()
        }
        var parts: [[UInt8]] = []
        var start = 0
        while maxSplit < 0 || parts.count < maxSplit, let i = find(n, in: h, from: start) {
            parts.append(Array(h[start..<i]))
            start = i + n.count
        }
        parts.append(Array(h[start...]))
        if fromRight { parts = parts.reversed().map { $0.reversed() } }
        return parts.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func splitOnWhitespace(_ s: String, maxSplit: Int, fromRight: Bool) -> [String] {
        var scalars = Array(s.unicodeScalars)
        if fromRight { scalars.reverse() }
        var parts: [[Unicode.Scalar]] = []
        var i = 0
        while true {
            while i < scalars.count && UTF8Scanning.isSpace(scalars[i]) { i += 1 }
            if i == scalars.count { break }
            if maxSplit >= 0 && parts.count == maxSplit {
                // The rest, leading whitespace dropped and trailing whitespace kept.
                parts.append(Array(scalars[i...]))
                break
            }
            let start = i
            while i < scalars.count && !UTF8Scanning.isSpace(scalars[i]) { i += 1 }
            parts.append(Array(scalars[start..<i]))
        }
        if fromRight { parts = parts.reversed().map { $0.reversed() } }
        return parts.map { String(String.UnicodeScalarView($0)) }
    }

    /// `replace(old, new, count)`; a negative count replaces every occurrence. The result's size
    /// is checked against the limits before it is built.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int, limits: RenderLimits) throws -> String {
        let h = Array(s.utf8)
        let o = Array(old.utf8)
        let n = Array(new.utf8)
        let scalarCount = o.isEmpty ? s.unicodeScalars.count : 0
        var replacements = 0
        if o.isEmpty {
            // Python inserts `new` before every character and after the last.
            replacements = count < 0 ? scalarCount + 1 : min(count, scalarCount + 1)
        } else {
            var start = 0
            while count < 0 || replacements < count, let i = find(o, in: h, from: start) {
                replacements += 1
                start = i + o.count
            }
        }
        let (grown, overflow) = n.count.multipliedReportingOverflow(by: replacements)
        try limits.checkSize(overflow ? Int.max : h.count - o.count * replacements + grown)
        var out: [UInt8] = []
        out.reserveCapacity(h.count - o.count * replacements + grown)
        var done = 0
        if o.isEmpty {
            var i = 0
            while true {
                if done < replacements {
                    out += n
                    done += 1
                }
                guard i < h.count else { break }
                let (_, length) = UTF8Scanning.scalar(at: i, in: h)
                out += h[i..<i + length]
                i += length
            }
            return String(decoding: out, as: UTF8.self)
        }
        // Buffer pointers keep the per-match appends free of reference counting.
        h.withUnsafeBufferPointer { hb in
            n.withUnsafeBufferPointer { nb in
                var start = 0
                while done < replacements, let i = find(o, in: h, from: start) {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: hb[start..<i]))
                    out.append(contentsOf: nb)
                    start = i + o.count
                    done += 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: hb[start...]))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func upper(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            if c.isASCII {
                let b = UInt8(c.value)
                out.append(b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b - 32 : b)
            } else {
                out += c.properties.uppercaseMapping.utf8
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func lower(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        let scalars = s.unicodeScalars
        var i = scalars.startIndex
        while i < scalars.endIndex {
            appendLowered(scalars, i, to: &out)
            i = scalars.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `str.title()`: a cased character after an uncased one is titlecased, others lowercased.
    static func title(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        let scalars = s.unicodeScalars
        var previousCased = false
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            if previousCased {
                appendLowered(scalars, i, to: &out)
            } else {
                out += c.properties.titlecaseMapping.utf8
            }
            previousCased = c.properties.isCased
            i = scalars.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `str.capitalize()`: the first character titlecased, the rest lowercased.
    static func capitalize(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.first else { return "" }
        var out = Array(first.properties.titlecaseMapping.utf8)
        out.reserveCapacity(s.utf8.count)
        var i = scalars.index(after: scalars.startIndex)
        while i < scalars.endIndex {
            appendLowered(scalars, i, to: &out)
            i = scalars.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One character lowercased, with CPython's final-sigma rule for U+03A3: it becomes ς when a
    /// cased letter precedes it and none follows (case-ignorable characters skipped both ways).
    private static func appendLowered(_ scalars: String.UnicodeScalarView, _ i: String.UnicodeScalarView.Index,
                                      to out: inout [UInt8]) {
        let c = scalars[i]
        if c.isASCII {
            let b = UInt8(c.value)
            out.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b)
            return
        }
        guard c.value == 0x3A3 else {
            out += c.properties.lowercaseMapping.utf8
            return
        }
        var j = i
        var precededByCased = false
        while j > scalars.startIndex {
            j = scalars.index(before: j)
            if !scalars[j].properties.isCaseIgnorable {
                precededByCased = scalars[j].properties.isCased
                break
            }
        }
        var followedByCased = false
        var k = scalars.index(after: i)
        while k < scalars.endIndex {
            if !scalars[k].properties.isCaseIgnorable {
                followedByCased = scalars[k].properties.isCased
                break
            }
            k = scalars.index(after: k)
        }
        out += (precededByCased && !followedByCased ? "\u{3C2}" : "\u{3C3}").utf8
    }

    /// `str.splitlines()`: every line boundary Python knows, `\r\n` counting as one.
    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for c in s.unicodeScalars {
            if previousCR {
                previousCR = false
                if c == "\n" { continue }
            }
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(current))
                current = String.UnicodeScalarView()
                previousCR = c == "\r"
            default:
                current.append(c)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}

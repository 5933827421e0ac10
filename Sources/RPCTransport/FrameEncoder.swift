// The write half of framing. Kept as prefix + payload + suffix so a transport can write the three
// pieces into its own buffer without first concatenating them into another array.

/// Frames payloads for a `FramingMode`.
public enum FrameEncoder {
    /// The bytes that go before a payload of `payloadCount` bytes.
    public static func prefix(mode: FramingMode, payloadCount: Int) -> [UInt8] {
        switch mode {
        case .contentLength: return Array("Content-Length: \(payloadCount)\r\n\r\n".utf8)
        case .newline: return []
        }
    }

    /// The bytes that go after a payload.
    public static func suffix(mode: FramingMode) -> [UInt8] {
        switch mode {
        case .contentLength: return []
        case .newline: return [0x0A]
        }
    }

    /// One complete frame. In newline mode the payload must not contain "\n" (compact JSON never
    /// does); the encoder does not check, since it cannot repair it without knowing JSON.
    public static func encode(_ payload: [UInt8], mode: FramingMode) -> [UInt8] {
        let head = prefix(mode: mode, payloadCount: payload.count)
        let tail = suffix(mode: mode)
        var out: [UInt8] = []
        out.reserveCapacity(head.count + payload.count + tail.count)
        out.append(contentsOf: head)
        out.append(contentsOf: payload)
        out.append(contentsOf: tail)
        return out
    }
}

// Human-readable dump of a GGUF file, the body of `reprolm inspect FILE`. Plain text with fixed
// column widths and no locale-dependent formatting, so the output is stable enough to diff.

extension GGUFFile {
    /// A multi-line description: header, metadata in file order (arrays longer than
    /// `maxArrayItems` abbreviated), the tensor table, the per-type summary and the parameter count.
    public func describe(maxArrayItems: Int = 8) -> String {
        var out: [String] = []
        out.append("GGUF file: \(path)")
        out.append("  version \(version), \(fileSize) bytes, alignment \(alignment), data section at offset \(dataOffset)")
        out.append("  architecture: \(architecture ?? "(none)")")
        out.append("")

        out.append("Metadata (\(metadata.orderedKeys.count) keys):")
        let keyWidth = metadata.orderedKeys.map(\.count).max() ?? 0
        let typeWidth = metadata.orderedKeys.compactMap { metadata[$0]?.typeName.count }.max() ?? 0
        for key in metadata.orderedKeys {
            guard let value = metadata[key] else { continue }
            out.append("  \(pad(key, keyWidth))  \(pad(value.typeName, typeWidth))  \(render(value, maxArrayItems: max(0, maxArrayItems), topLevel: true))")
        }
        out.append("")

        out.append("Tensors (\(tensors.count)):")
        let shapes = tensors.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        let nameWidth = max(4, tensors.map(\.name.count).max() ?? 0)
        let shapeWidth = max(5, shapes.map(\.count).max() ?? 0)
        let bytesWidth = max(5, tensors.map { String($0.byteCount).count }.max() ?? 0)
        out.append("  \(pad("name", nameWidth))  \(pad("type", 7))  \(pad("shape", shapeWidth))  \(lpad("bytes", bytesWidth))  offset")
        for (t, shape) in zip(tensors, shapes) {
            out.append("  \(pad(t.name, nameWidth))  \(pad(t.type.name, 7))  \(pad(shape, shapeWidth))  \(lpad(String(t.byteCount), bytesWidth))  \(t.offset)")
        }
        out.append("")

        out.append("Tensor types:")
        for entry in quantTypeSummary {
            let share = fileSize > 0 ? percent(entry.bytes, of: fileSize) : "-"
            let noun = entry.tensorCount == 1 ? "tensor " : "tensors"
            out.append("  \(pad(entry.type.name, 7))  \(lpad(String(entry.tensorCount), 5)) \(noun)  \(lpad(String(entry.bytes), 12)) bytes  (\(share) of file)")
        }
        out.append("")
        out.append("Parameters: \(parameterCount) (\(humanCount(parameterCount)))")
        return out.joined(separator: "\n") + "\n"
    }
}

// MARK: - Rendering helpers

/// Top-level strings are shown in full (a chat template is worth reading whole); strings inside
/// arrays are cut so a vocabulary does not flood the terminal.
private func render(_ value: GGUFValue, maxArrayItems: Int, topLevel: Bool) -> String {
    switch value {
    case .string(let s): return quote(s, limit: topLevel ? nil : 64)
    case .array(let items):
        let elementName = items.first.map(elementTypeName) ?? "items"
        let noun = items.count == 1 && elementName.hasSuffix("s") ? String(elementName.dropLast()) : elementName
        let shown = items.prefix(maxArrayItems).map { render($0, maxArrayItems: maxArrayItems, topLevel: false) }
        if items.isEmpty { return "[0 \(noun)]" }
        let more = items.count > maxArrayItems ? (shown.isEmpty ? "... " : ", ... ") : ""
        return "[\(items.count) \(noun): \(shown.joined(separator: ", "))\(more)]"
    case .bool(let b): return b ? "true" : "false"
    case .float32(let f): return "\(f)"
    case .float64(let d): return "\(d)"
    default: return value.intValue.map(String.init) ?? "\(value)"
    }
}

private func elementTypeName(_ value: GGUFValue) -> String {
    switch value {
    case .string: return "strings"
    case .array: return "arrays"
    default: return value.typeName
    }
}

private func quote(_ s: String, limit: Int?) -> String {
    var body = ""
    var count = 0
    for scalar in s.unicodeScalars {
        if let limit, count >= limit {
            body += "…"
            break
        }
        count += 1
        switch scalar {
        case "\"": body += "\\\""
        case "\\": body += "\\\\"
        case "\n": body += "\\n"
        case "\r": body += "\\r"
        case "\t": body += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                body += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                body.unicodeScalars.append(scalar)
            }
        }
    }
    return "\"" + body + "\""
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

private func lpad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

/// 134515008 -> "134.5M", rounded half up, integer arithmetic only.
func humanCount(_ n: Int) -> String {
    let units: [(Int, String)] = [(1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")]
    for (scale, suffix) in units where n >= scale {
        let tenths = (n / (scale / 10)) + ((n % (scale / 10)) * 2 >= scale / 10 ? 1 : 0)
        return "\(tenths / 10).\(tenths % 10)\(suffix)"
    }
    return String(n)
}

private func percent(_ part: Int, of whole: Int) -> String {
    let tenths = (part.multipliedReportingOverflow(by: 1000).partialValue + whole / 2) / whole
    return "\(tenths / 10).\(tenths % 10)%"
}

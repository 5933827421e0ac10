// What models/list reports about a safetensors file: its size, parameter count and dtypes.

extension SafetensorsFile {
    public var fileSize: Int { mappedSize }

    /// Elements over every tensor.
    public var parameterCount: Int { tensors.values.reduce(0) { $0 + $1.elementCount } }

    /// Per dtype: how many tensors and bytes, largest first (ties by name).
    public var dtypeSummary: [(dtype: SafetensorsDType, tensors: Int, bytes: Int)] {
        var by: [SafetensorsDType: (Int, Int)] = [:]
        for t in tensors.values { by[t.dtype, default: (0, 0)] = (by[t.dtype, default: (0, 0)].0 + 1, by[t.dtype, default: (0, 0)].1 + t.byteCount) }
        return by.map { (dtype: $0.key, tensors: $0.value.0, bytes: $0.value.1) }
            .sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.dtype.rawValue < $1.dtype.rawValue }
    }
}

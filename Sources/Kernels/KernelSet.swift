// Which code computes the quantized products. One binary carries every set this architecture has;
// at start the fastest set the CPU can run is chosen (CPUID on x86-64), unless REPROLM_KERNELS
// names another. Every set gives the same bits (Kernels.swift states the orders; the tests run
// every set the machine can execute against the reference, bit for bit), so the choice moves
// speed only, and receipts record it for information.
import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A set of quantized-product kernels.
public struct KernelSet: @unchecked Sendable, Equatable, CustomStringConvertible {
    /// "reference", "portable", "avx2", "avx512", "avx512vnni".
    public let name: String
    /// The C set (nil for the Swift reference path).
    let cSet: UnsafePointer<rl_kernel_set>?

    public static func == (a: KernelSet, b: KernelSet) -> Bool { a.name == b.name }
    public var description: String { name }

    /// The Swift reference path: plain per-element code reading the file's block layouts
    /// literally. Slow; it exists to prove the others right and to port to a new CPU.
    public static let reference = KernelSet(name: "reference", cSet: nil)

    /// Every set this build has, fastest last.
    public static let all: [KernelSet] = {
        var sets = [reference]
        for name in ["portable", "avx2", "avx512", "avx512vnni"] {
            if let s = rl_kernel_set_named(name) { sets.append(KernelSet(name: name, cSet: s)) }
        }
        return sets
    }()

    /// Whether this CPU can run the set.
    public var isSupported: Bool { cSet == nil || rl_cpu_supports(name) != 0 }

    /// The sets this CPU can run, fastest last.
    public static var supported: [KernelSet] { all.filter(\.isSupported) }

    /// The set named `name`, if this build has it and the CPU can run it.
    public static func named(_ name: String) throws -> KernelSet {
        guard let set = all.first(where: { $0.name == name }) else {
            throw KernelError.unknownKernelSet(name, available: all.map(\.name))
        }
        guard set.isSupported else { throw KernelError.unsupportedKernelSet(name) }
        return set
    }

    /// The set the process uses: REPROLM_KERNELS if set (an unusable name is reported once on
    /// stderr and ignored), else the fastest the CPU supports. `select(_:)` may replace it at start.
    public static var selected: KernelSet { selection.withLock { $0 } }

    /// Makes `set` the process's set (the daemon's `--kernels`), before any model work starts.
    public static func select(_ set: KernelSet) { selection.withLock { $0 = set } }

    private static let selection = LockedValue<KernelSet>(initialSelection())

    private static func initialSelection() -> KernelSet {
        if let raw = getenv("REPROLM_KERNELS") {
            let name = String(cString: raw)
            do { return try named(name) } catch {
                fputs("reprolm: REPROLM_KERNELS=\(name) ignored: \(error)\n", stderr)
            }
        }
        return supported.last ?? reference
    }

    /// How receipts and `initialize` name the set: architecture and set ("x86_64-avx2").
    public var kernelClass: String {
        #if arch(x86_64)
        return "x86_64-\(name)"
        #elseif arch(arm64)
        return "arm64-\(name)"
        #else
        return name
        #endif
    }

    /// The C tile function for `format`, nil for the reference set and the float formats.
    func tiles(_ format: WeightFormat) -> rl_tiles_fn? {
        guard let cSet else { return nil }
        return rl_tiles_for(cSet, Int32(format.rawValue))
    }
}

/// A value behind a mutex (the selected set is read by every matmul: an uncontended lock is a
/// few nanoseconds, against microseconds of work).
final class LockedValue<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ value: Value) {
        self.value = value
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}

// Bounds on one render, so a hostile template (a model file is untrusted input) ends in an error
// instead of exhausting memory, the stack or the caller's patience. Real chat templates stay far
// inside them: a few hundred steps per message, nesting under twenty, output the size of the
// conversation.

struct RenderLimits {
    /// Largest string a template may build, and largest output (64 MiB).
    var maxStringBytes = 64 << 20
    /// Expressions evaluated, statements executed and loop iterations, plus steps for the size
    /// of the values operations build or scan (`Value.workSteps`, which counts shared elements as
    /// often as they occur), since one step can copy a megabyte. Qwen2.5's template takes about 35 steps a message plus its text's size, so this
    /// allows some 100,000 messages or about 10 MB of text, and stops a runaway template within
    /// a few seconds.
    var maxSteps = 5_000_000
    /// Nested evaluation (expressions inside statements inside macro calls), which is what uses
    /// the stack: at most about 700 bytes a level in a release build, so a render stays within
    /// about 200 KiB of stack (HostileInputTests runs the limits on a 512 KiB thread).
    var maxDepth = 300
    /// What one macro call counts toward `maxDepth`.
    static let macroCallLevels = 3

    func checkSize(_ bytes: Int) throws {
        if bytes > maxStringBytes {
            throw ValueError.runtime("the template built a string of more than \(maxStringBytes) bytes")
        }
    }

    func checkSize(_ bytes: Int, times count: Int) throws {
        let (total, overflow) = bytes.multipliedReportingOverflow(by: count)
        try checkSize(overflow ? Int.max : total)
    }

    func joined(_ a: String, _ b: String) throws -> String {
        try checkSize(a.utf8.count + b.utf8.count)
        return a + b
    }
}

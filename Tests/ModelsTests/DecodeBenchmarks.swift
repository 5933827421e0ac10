// End-to-end speed of the forward pass inside the test process (the comparison with llama.cpp is
// Benchmarks/run, through `reprolm bench`): per model and thread count, one 128-token prefill in a single
// forward call, then 128 single-token decode steps feeding back the argmax. Not a timed assertion.
// Run: REPROLM_BENCH=1 swift test -c release --skip-build --scratch-path .build-speed --filter DecodeBenchmarks
// Optional: REPROLM_BENCH_MODELS=smollm2-135m,gemma3-270m  REPROLM_BENCH_THREADS=1,2  REPROLM_BENCH_REPEAT=3
// REPROLM_BENCH_DECODE=0 (prefill only, for profiling). With repeats, the median of each figure is
// printed last: the machine is shared and noisy. The "cpu" columns divide by the process's CPU
// time instead of the wall clock: at 1 thread that is close to what an idle machine would show
// (at 2 threads it also counts the workers' spinning, so it reads low).
import Foundation
import Kernels
import Models
import XCTest

final class DecodeBenchmarks: XCTestCase {
    func testPrefillAndDecodeSpeed() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["REPROLM_BENCH"] == "1" else { throw XCTSkip("set REPROLM_BENCH=1 to run the decode benchmark") }
        let names = env["REPROLM_BENCH_MODELS"].map { $0.split(separator: ",").map(String.init) }
            ?? ["smollm2-135m", "qwen2.5-coder-0.5b", "gemma3-270m"]
        let threadCounts = env["REPROLM_BENCH_THREADS"].map { $0.split(separator: ",").compactMap { Int($0) } } ?? [1, 2]
        let repeats = max(1, Int(env["REPROLM_BENCH_REPEAT"] ?? "1") ?? 1)
        let promptLength = 128, decodeSteps = env["REPROLM_BENCH_DECODE"] == "0" ? 0 : 128
        print("model               threads  prefill tok/s  decode tok/s   (cpu: prefill  decode)")
        for name in names {
            let model = try loadModel(name)
            // Any fixed in-vocabulary prompt will do: the cost does not depend on the token ids.
            let prompt = (0..<promptLength).map { Int32((1000 + 37 * $0) % model.config.vocabulary) }
            // Warm-up: page the weights in, as the llama.cpp side does.
            _ = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: Array(prompt.prefix(8)), logits: .last)],
                                  pool: nil)
            for threads in threadCounts {
                let pool = ThreadPool(threads: threads)
                var figures: [[Double]] = [[], [], [], []]
                var digests: Set<UInt64> = []
                for _ in 0..<repeats {
                    let seq = model.makeSequence()
                    var digest = Digest()
                    let (t0, c0) = (Date(), cpuSeconds())
                    var logits = try model.forward([ForwardItem(sequence: seq, tokens: prompt, logits: .last)], pool: pool)[0]
                    let (t1, c1) = (Date(), cpuSeconds())
                    digest.add(logits)
                    for _ in 0..<decodeSteps {
                        let next = argmax(logits[...])
                        logits = try model.forward([ForwardItem(sequence: seq, tokens: [next], logits: .last)], pool: pool)[0]
                        digest.add(logits)
                    }
                    let (t2, c2) = (Date(), cpuSeconds())
                    digests.insert(digest.value)
                    let row = [Double(promptLength) / t1.timeIntervalSince(t0), Double(decodeSteps) / t2.timeIntervalSince(t1),
                               Double(promptLength) / (c1 - c0), Double(decodeSteps) / (c2 - c1)]
                    for i in 0..<4 { figures[i].append(row[i]) }
                    print(line(name, threads, row))
                }
                if repeats > 1 { print(line(name, threads, figures.map(median)) + "  median of \(repeats)") }
                // The bits of every logit computed: the same before and after a speed change.
                print("\(name) \(threads) threads: logits digest \(digests.map { String($0, radix: 16) }.sorted())")
                XCTAssertEqual(digests.count, 1, "\(name): runs gave different logits")
            }
        }
    }

    /// FNV-1a over the bit patterns of every logit.
    struct Digest {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ xs: [Float]) {
            for x in xs { value = (value ^ UInt64(x.bitPattern)) &* 0x100_0000_01b3 }
        }
    }

    private func line(_ name: String, _ threads: Int, _ f: [Double]) -> String {
        name.padding(toLength: 20, withPad: " ", startingAt: 0)
            + String(format: "%7d %14.1f %13.1f   (cpu: %7.1f %7.1f)", threads, f[0], f[1], f[2], f[3])
    }

    private func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    private func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

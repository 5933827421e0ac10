// A chat template comes from a model file, which is untrusted input: hostile templates and huge
// conversations must end in a TemplateError or complete quickly, never crash, hang or exhaust
// memory. The deep-nesting cases run on a thread with a 512 KiB stack (what a worker thread may
// have), so a limit set too loosely shows up here as a crash.

@testable import ChatTemplates
import Foundation
import XCTest

final class HostileInputTests: XCTestCase {
    private let user = [ChatMessage(role: "user", content: "hi")]

    private func render(_ source: String, _ messages: [ChatMessage]? = nil) throws -> String {
        try ChatTemplate(source: source).render(messages: messages ?? user, addGenerationPrompt: true,
                                                bosToken: "<s>", eosToken: "</s>")
    }

    /// Runs `body` on a thread with a small stack and fails if it takes longer than `seconds`.
    private func onSmallStack(seconds: Double = 5, _ body: @escaping @Sendable () throws -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                try body()
            } catch {
                XCTFail("unexpected error: \(error)")
            }
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        XCTAssertEqual(done.wait(timeout: .now() + seconds), .success, "did not finish in \(seconds) s")
    }

    private func assertError(_ source: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try render(source), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: line)
        }
    }

    func testDeeplyNestedTemplatesAreRefused() {
        let n = 10_000
        let cases = [
            "{{ " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) + " }}",
            "{{ " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + " }}",
            "{{ " + String(repeating: "-", count: n) + "1 }}",
            "{{ " + String(repeating: "not ", count: n) + "x }}",
            "{{ " + Array(repeating: "'a'", count: n).joined(separator: " ~ ") + " }}",
            "{{ x" + String(repeating: " | trim", count: n) + " }}",
            "{{ x" + String(repeating: ".a", count: n) + " }}",
            String(repeating: "{% if true %}", count: n) + String(repeating: "{% endif %}", count: n),
            String(repeating: "{% for x in [1] %}", count: n) + String(repeating: "{% endfor %}", count: n),
        ]
        onSmallStack {
            for source in cases {
                XCTAssertThrowsError(try ChatTemplate(source: source)) { error in
                    XCTAssertTrue("\(error)".contains("nest"), "\(error)")
                }
            }
        }
    }

    func testNestingJustUnderTheLimitsRendersOnASmallStack() {
        let parens = Parser.maxNesting - 5
        let sources = [
            "{{ " + String(repeating: "(", count: parens) + "1" + String(repeating: ")", count: parens) + " }}",
            "{{ " + Array(repeating: "1", count: Parser.maxExpressionDepth - 5).joined(separator: " + ") + " }}",
            String(repeating: "{% if true %}", count: parens) + "x" + String(repeating: "{% endif %}", count: parens),
            // Macro recursion until the render's depth limit stops it.
            "{% macro f(n) %}{% if n > 0 %}({{ f(n - 1) }}){% endif %}{% endmacro %}{{ f(10000) }}",
        ]
        onSmallStack { [self] in
            for source in sources {
                do {
                    _ = try render(source)
                } catch {
                    XCTAssertTrue("\(error)".contains("levels deep"), "\(error)")
                }
            }
        }
    }

    func testUnboundedRecursionStops() {
        onSmallStack { [self] in
            assertError("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "levels deep")
            assertError("{% macro f(x) %}{{ f([x]) }}{% endmacro %}{{ f(1) }}", "levels deep")
        }
    }

    func testRunawayLoopsAndGrowthStop() {
        let started = Date()
        assertError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "steps")
        assertError("{{ range(1000000) | length }}", "Range too big")
        assertError("{{ 'x' * 1000000000000 }}", "more than")
        assertError("{{ [1, 2] * 1000000000000 }}", "more than")
        assertError("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                    "more than")
        // replace works out the result's size before building it.
        assertError("{{ ('x' * 20000000).replace('x', 'xxxx') | length }}", "more than")
        assertError("{{ ('x' * 20000000) | replace('x', 'xxxx') | length }}", "more than")
        assertError("{% set big = 'y' * 1000000 %}{% for i in range(100) %}{{ big }}{% endfor %}", "output is longer")
        assertError("{% set ns = namespace(x=1) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}",
                    "nests too deeply")
        assertError("{% set ns = namespace() %}{% set ns.me = ns %}", "contains ns")
        assertError("{% set a = namespace() %}{% set b = namespace(a=a) %}{% set a.b = b %}", "contains a")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    /// Work that grows with the size of values counts toward the step limit, so quadratic
    /// accumulation or re-serializing a big value in every iteration stops early. Each of these
    /// takes far fewer than 200,000 plain steps.
    func testWorkOnLargeValuesCountsTowardTheStepLimit() throws {
        let small = RenderLimits(maxSteps: 200_000)
        for source in [
            "{% set ns = namespace(xs=[]) %}{% for i in range(20000) %}{% set ns.xs = ns.xs + [i] %}{% endfor %}",
            "{% set big = range(100000) | list %}{% for i in range(1000) %}{% set j = big | tojson %}{% endfor %}",
            "{% set s = 'x' * 10000000 %}{% for i in range(1000) %}{% set u = s | upper %}{% endfor %}",
            "{% set s = 'x' * 10000000 %}{% for i in range(1000) %}{% if 'y' in s %}{% endif %}{% endfor %}",
            "{% set xs = range(100000) | list %}{% for i in range(1000) %}{% set ys = xs[1:] %}{% endfor %}",
        ] {
            XCTAssertThrowsError(try ChatTemplate(source: source).render(variables: [:], limits: small), source) { error in
                XCTAssertTrue("\(error)".contains("steps"), "\(error)")
            }
        }
        // References to a large value cost nothing: only building or scanning it does.
        let many = (0..<20_000).map { _ in Value.string("m") }
        let refs = "{% for m in messages %}{{ messages[loop.index0] }}{% endfor %}"
        XCTAssertEqual(try ChatTemplate(source: refs).render(variables: ["messages": .list(many)]).count, 20_000)
    }

    func testHugeInputsRenderQuickly() throws {
        let started = Date()
        let tenMB = String(repeating: "0123456789", count: 1 << 20)
        XCTAssertEqual(try render(tenMB), tenMB)
        let conversation = [ChatMessage(role: "system", content: tenMB), ChatMessage(role: "user", content: "é" + tenMB)]
        let chatML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content | trim }}<|im_end|>\n{% endfor %}"
        let out = try render(chatML, conversation)
        XCTAssertEqual(out.utf8.count, 2 * tenMB.utf8.count + 2 + 2 * "<|im_start|>\n<|im_end|>\n".utf8.count + 10)
        // 10 MB of template made of tags, and a many-message conversation.
        let tags = String(repeating: "{{ 1 }}{# c #}{% if false %}{% endif %}", count: 100_000)
        XCTAssertEqual(try render(tags).count, 100_000)
        let many = (0..<20_000).map { ChatMessage(role: $0 % 2 == 0 ? "user" : "assistant", content: "message \($0)") }
        XCTAssertTrue(try render(chatML, many).hasSuffix("message 19999<|im_end|>\n"))
        // Thousands of variables in one scope stay cheap to set and look up.
        let sets = (0..<20_000).map { "{% set v\($0) = \($0) %}" }.joined()
        XCTAssertEqual(try render(sets + "{{ v0 + v19999 }}"), "19999")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testTenMegabyteConversationsFitTheRealTemplates() throws {
        let golden = try GoldenFiles.load("chat_templates")
        let content = String(repeating: "0123456789", count: 1 << 20)
        for model in try XCTUnwrap(golden["models"]?.arrayValue) {
            let template = try ChatTemplate(source: try XCTUnwrap(model["template"]?.stringValue))
            let out = try template.render(messages: [ChatMessage(role: "user", content: content)],
                                          addGenerationPrompt: true, bosToken: "", eosToken: "")
            XCTAssertGreaterThan(out.utf8.count, content.utf8.count)
        }
    }

    func testTruncatedTemplatesFailCleanly() {
        let fragments = ["{{", "{%", "{#", "{{ x", "{% if", "{{ 'abc", "{{ \"", "{{ x |", "{{ x is", "{% for x in",
                         "{% set", "{% macro m(", "{{ (", "{{ [1,", "{{ {'a':", "{%-", "{{-", "{{ x -", "{{ '\\",
                         "{% if x %}{% else", "{{ x[", "{{ x[1:"]
        for f in fragments {
            XCTAssertThrowsError(try ChatTemplate(source: f), f) { error in
                guard case .syntax? = error as? TemplateError else { return XCTFail("\(f): \(error)") }
            }
        }
        // A lone brace, percent or hash is just text.
        XCTAssertEqual(try render("{ } % # -%} #} }} {"), "{ } % # -%} #} }} {")
    }

    /// Found by the chat_template fuzz target (Fuzz/): the width of `indent` and `tojson(indent=)`,
    /// and the size of what they build, used to be checked only after the string was built (a
    /// terabyte allocation, or 3 GB from a small list).
    func testIndentationWidthsAreBoundedBeforeAnythingIsBuilt() throws {
        for source in [#"{{ "a\nb"|indent(1000000000000) }}"#, #"{{ [1,2]|tojson(indent=1000000000000) }}"#,
                       #"{{ ("a\n" * 10000)|indent(100000) }}"#, #"{{ range(100000)|list|tojson(indent=100000) }}"#] {
            XCTAssertThrowsError(try render(source), source) { error in
                XCTAssertTrue(error is TemplateError, "\(source): \(error)")
            }
        }
        XCTAssertEqual(try render(#"{{ "a\nb"|indent(2) }}|{{ [1]|tojson(indent=2) }}"#), "a\n  b|[\n  1\n]")
    }

    /// Found by the chat_template fuzz target: values that hold one element many times (`[x, x]`
    /// doubled n times) cost 2^n to print, compare or check, while building them took n steps.
    /// Every container is now charged as if expanded, so these end in the step limit at once.
    func testValuesThatShareTheirElementsAreChargedInFull() {
        let doubling = "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l|tojson }}"
        let macro = "{% macro m(x, n) %}{% if n > 0 %}{{ m([x, x], n - 1) }}{% else %}{{ x|string|length }}{{ x == x }}{% endif %}{% endmacro %}{{ m([1], 40) }}"
        let repeated = "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l] * 2 %}{% endfor %}{{ ns.l }}"
        for source in [doubling, macro, repeated] {
            onSmallStack(seconds: 10) { [self] in
                XCTAssertThrowsError(try render(source), source) { error in
                    XCTAssertTrue("\(error)".contains("steps"), "\(error)")
                }
            }
        }
    }
}

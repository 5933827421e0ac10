// The generic golden set: small templates exercising each supported construct (whitespace
// control, loops, scoping, namespaces, macros, expressions, filters, tests, undefined values and
// errors), rendered by jinja2 in Hugging Face's configuration. Each must match byte for byte.

@testable import ChatTemplates
import ReproJSON
import XCTest

final class SnippetGoldenTests: XCTestCase {
    func testEverySnippetRendersAsJinja2() throws {
        let golden = try GoldenFiles.load("snippets")
        let snippets = try XCTUnwrap(golden["snippets"]?.arrayValue)
        XCTAssertGreaterThanOrEqual(snippets.count, 20)
        for s in snippets {
            let name = s["name"]?.stringValue ?? "?"
            let source = try XCTUnwrap(s["template"]?.stringValue)
            var variables: [String: Value] = [:]
            for (k, v) in try XCTUnwrap(s["variables"]?.objectValue) { variables[k] = GoldenFiles.value(v) }
            let result = Result { try ChatTemplate(source: source).render(variables: variables) }
            if let problem = try Expected(s).mismatch(result) { XCTFail("snippet \(name): \(problem)") }
        }
    }
}

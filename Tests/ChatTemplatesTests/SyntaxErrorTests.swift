// Syntax errors point at line:column of the template (columns in characters, lines after
// jinja2's newline normalization), so a broken template in a model file can be found and fixed.

import ChatTemplates
import XCTest

final class SyntaxErrorTests: XCTestCase {
    private func assertSyntaxError(_ source: String, _ message: String, _ line: Int, _ column: Int,
                                   file: StaticString = #filePath, lineNumber: UInt = #line) {
        XCTAssertThrowsError(try ChatTemplate(source: source), file: file, line: lineNumber) { error in
            guard case .syntax(let m, let at)? = error as? TemplateError else {
                return XCTFail("expected a syntax error, got \(error)", file: file, line: lineNumber)
            }
            XCTAssertEqual(m, message, file: file, line: lineNumber)
            XCTAssertEqual(at, SourceLocation(line: line, column: column), "\(m)", file: file, line: lineNumber)
            XCTAssertTrue("\(error)".contains("\(line):\(column)"), "\(error)", file: file, line: lineNumber)
        }
    }

    func testExpressionErrors() {
        assertSyntaxError("line1\n  {{ 'x' + }}", "unexpected 'end of print statement'", 2, 12)
        assertSyntaxError("{{ }}", "expected an expression, got 'end of print statement'", 1, 4)
        assertSyntaxError("{{ (1 }}", "unexpected '}', expected ')'", 1, 7)
        assertSyntaxError("{{ 1 ) }}", "unexpected ')'", 1, 6)
        assertSyntaxError("{{ a b }}", "expected end of print statement, got 'b'", 1, 6)
        assertSyntaxError("{{ f(a=1, 2) }}", "positional argument after keyword argument", 1, 5)
        assertSyntaxError("{{ x.  }}", "expected name or number after '.'", 1, 8)
        assertSyntaxError("{{ 'a\\x4' }}", "truncated \\x escape in string", 1, 6)
        assertSyntaxError("{{ x ! y }}", "unexpected character '!'", 1, 6)
    }

    func testUnterminatedTagsAndStrings() {
        assertSyntaxError("{% if x %}\nabc\n{{ x", "tag is never closed (expected '}}')", 3, 1)
        assertSyntaxError("ok\n  {% if x", "tag is never closed (expected '%}')", 2, 3)
        assertSyntaxError("{{ 'abc }}", "unterminated string", 1, 4)
        assertSyntaxError("a\n{# comment", "missing end of comment tag", 2, 1)
        assertSyntaxError("\n\n  {% for m in messages %}{{ m }}", "'for' is never closed (expected 'else' or 'endfor')", 3, 3)
        assertSyntaxError("{% if a %}{% elif b %}{% else %}", "'if' is never closed (expected 'endif')", 1, 1)
        assertSyntaxError("{% set x %}abc", "'set' is never closed (expected 'endset')", 1, 1)
    }

    func testStatementErrors() {
        assertSyntaxError("a\nb\n  {% nope %}", "unknown tag 'nope'", 3, 6)
        assertSyntaxError("{% if x %}{% endfor %}", "'endfor' without an open block it could close", 1, 14)
        assertSyntaxError("{% break %}", "'break' outside a loop", 1, 4)
        assertSyntaxError("{% for x in xs %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}",
                          "'continue' outside a loop", 1, 36)
        assertSyntaxError("{% for 1 in xs %}{% endfor %}", "can't assign to '1'", 1, 8)
        assertSyntaxError("{% for x xs %}{% endfor %}", "expected 'in', got 'xs'", 1, 10)
        assertSyntaxError("{% if x %}{% else y %}{% endif %}", "expected end of statement block, got 'y'", 1, 19)
        assertSyntaxError("{% macro m(a=1, b) %}{% endmacro %}", "non-default argument follows default argument", 1, 18)
        assertSyntaxError("{{ x is not }}", "expected a name, got 'end of print statement'", 1, 13)
    }

    func testLocationsCountCharactersAndNormalizedLines() {
        // Columns count Unicode scalars, not bytes; \r\n and \r are one line break each.
        assertSyntaxError("é😀{{ ) }}", "unexpected ')'", 1, 6)
        assertSyntaxError("a\r\nb\rc\n{{ ) }}", "unexpected ')'", 4, 4)
    }
}

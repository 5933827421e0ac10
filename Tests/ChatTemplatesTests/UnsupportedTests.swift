// Every construct this Jinja subset leaves out must fail with `TemplateError.unsupported` naming
// it: at parse time where the syntax shows it, otherwise when rendering reaches it. Never a
// misrender, never a crash.

@testable import ChatTemplates
import XCTest

final class UnsupportedTests: XCTestCase {
    /// Refused when the template is parsed.
    func testUnsupportedSyntaxFailsAtParseTime() {
        let cases: [(String, String)] = [
            ("{% include 'other.j2' %}", "{% include %}"),
            ("{% extends 'base.j2' %}", "{% extends %}"),
            ("{% block body %}x{% endblock %}", "{% block %}"),
            ("{% import 'm.j2' as m %}", "{% import %}"),
            ("{% from 'm.j2' import f %}", "{% from %}"),
            ("{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}x{% endcall %}", "{% call %}"),
            ("{% filter upper %}x{% endfilter %}", "{% filter %}"),
            ("{% with a = 1 %}{{ a }}{% endwith %}", "{% with %}"),
            ("{% autoescape true %}x{% endautoescape %}", "{% autoescape %}"),
            ("{% do xs.append(1) %}", "{% do %}"),
            ("{% trans %}x{% endtrans %}", "{% trans %}"),
            ("{% generation %}x{% endgeneration %}", "{% generation %}"),
            ("{% raw %}{{ x }}{% endraw %}", "{% raw %}"),
            ("{%- raw -%}x{% endraw %}", "{% raw %}"),
            ("{% for m in messages recursive %}{{ loop(m.children) }}{% endfor %}", "recursive for loops"),
            ("{{ x | xmlattr }}", "'xmlattr' filter"),
            ("{{ x | safe }}", "'safe' filter"),
            ("{{ xs | sort }}", "'sort' filter"),
            ("{{ xs | unique | list }}", "'unique' filter"),
            ("{{ 1.5 | round }}", "'round' filter"),
            ("{{ d | dictsort }}", "'dictsort' filter"),
            ("{{ xs | groupby('a') }}", "'groupby' filter"),
            ("{{ x is escaped }}", "'escaped' test"),
            ("{{ f(*args) }}", "*args"),
            ("{{ f(**kwargs) }}", "**kwargs"),
            ("{{ x[1, 2] }}", "several indices"),
            ("{{ '\\N{BULLET}' }}", "\\N{...}"),
            ("{{ '\\ud800' }}", "lone surrogate"),
            ("{{ 99999999999999999999 }}", "beyond 64 bits"),
            ("{{ café }}", "non-ASCII names"),
        ]
        for (source, expected) in cases {
            XCTAssertThrowsError(try ChatTemplate(source: source), source) { error in
                guard case .unsupported(let message, _)? = error as? TemplateError else {
                    return XCTFail("\(source): expected unsupported, got \(error)")
                }
                XCTAssertTrue(message.contains(expected), "\(source): '\(message)' should name \(expected)")
                XCTAssertTrue("\(error)".hasPrefix("unsupported: "), "\(error)")
            }
        }
    }

    /// Refused when rendering reaches them.
    func testUnsupportedOperationsFailWhenRendered() throws {
        let cases: [(String, String)] = [
            ("{{ '%s!' % 'x' }}", "printf-style"),
            ("{{ 'a{}'.format(1) }}", "str.format()"),
            ("{{ 'abc'.zfill(5) }}", "str.zfill()"),
            ("{{ {'a': 1}.copy() }}", "dict.copy()"),
            ("{{ lipsum() }}", "lipsum()"),
            ("{{ cycler(1, 2) }}", "cycler()"),
            ("{{ 1 is sameas 1 }}", "'sameas'"),
            ("{% for x in [1] %}{{ loop.changed(x) }}{% endfor %}", "changed()"),
            ("{{ (-8) ** 0.5 }}", "complex"),
            ("{{ '12' | int(base=16) }}", "base"),
            ("{{ messages | map('sort') | list }}", "'sort' filter"),
            ("{{ [1, 2] | select('escaped') | list }}", "'escaped' test"),
            ("{{ messages.sort }}", "printing a builtin_function_or_method"),
            ("{% macro m() %}{% endmacro %}{{ m }}", "printing a Macro"),
            ("{{ [1] | select }}", "printing a generator"),
        ]
        for (source, expected) in cases {
            let template = try ChatTemplate(source: source)
            XCTAssertThrowsError(try template.render(messages: [ChatMessage(role: "user", content: "hi")],
                                                     addGenerationPrompt: false, bosToken: "", eosToken: ""), source) { error in
                guard case .unsupported(let message, let at)? = error as? TemplateError else {
                    return XCTFail("\(source): expected unsupported, got \(error)")
                }
                XCTAssertTrue(message.contains(expected), "\(source): '\(message)' should name \(expected)")
                XCTAssertEqual(at.line, 1)
            }
        }
    }

    /// Names jinja2 does not know at all are syntax errors, as jinja2 reports them at load time.
    func testUnknownFiltersTestsAndTagsAreSyntaxErrors() {
        for (source, expected) in [("{{ x | nosuchfilter }}", "no filter named 'nosuchfilter'"),
                                   ("{{ x is nosuchtest }}", "no test named 'nosuchtest'"),
                                   ("{% nosuchtag %}", "unknown tag 'nosuchtag'")] {
            XCTAssertThrowsError(try ChatTemplate(source: source)) { error in
                guard case .syntax(let message, _)? = error as? TemplateError else {
                    return XCTFail("\(source): expected a syntax error, got \(error)")
                }
                XCTAssertEqual(message, expected)
            }
        }
    }
}

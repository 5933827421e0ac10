// The GBNF parser and matcher on small grammars whose languages are known by construction.
import Grammar
import XCTest

/// Whether the whole of `text` is a sentence of `grammar` (and, separately, a valid prefix).
func matches(_ grammar: Grammar, _ text: String) -> (prefix: Bool, complete: Bool) {
    var m = GrammarMatcher(grammar)
    guard m.accept(Array(text.utf8)) else { return (false, false) }
    return (true, m.isComplete)
}

final class GBNFTests: XCTestCase {
    func g(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Grammar {
        do { return try GBNF.parse(text) } catch {
            XCTFail("\(error)", file: file, line: line)
            return try! GBNF.parse("root ::= \"\"")
        }
    }

    func assertLanguage(_ grammar: String, accepts: [String], rejects: [String], file: StaticString = #filePath, line: UInt = #line) {
        let gr = g(grammar, file: file, line: line)
        for s in accepts { XCTAssertTrue(matches(gr, s).complete, "should accept \(s.debugDescription)", file: file, line: line) }
        for s in rejects { XCTAssertFalse(matches(gr, s).complete, "should reject \(s.debugDescription)", file: file, line: line) }
    }

    func testLiteralsClassesAndAlternatives() {
        assertLanguage(#"root ::= "ab" | [x-z]+ "!""#, accepts: ["ab", "x!", "zyx!"], rejects: ["", "a", "abab", "!", "w!"])
        assertLanguage(#"root ::= [^a-c\n]"#, accepts: ["d", "é", "😀"], rejects: ["a", "c", "\n", "dd"])
        assertLanguage(#"root ::= ."#, accepts: ["a", "\u{10FFFF}"], rejects: ["", "ab"])
        assertLanguage(#"root ::= "\x41\u00e9\U0001F600\t\"\\""#, accepts: ["Aé😀\t\"\\"], rejects: ["A"])
    }

    func testRepetitions() {
        assertLanguage(#"root ::= "a"{2,4}"#, accepts: ["aa", "aaa", "aaaa"], rejects: ["a", "aaaaa"])
        assertLanguage(#"root ::= "a"{3}"#, accepts: ["aaa"], rejects: ["aa", "aaaa"])
        assertLanguage(#"root ::= "a"{2,}"#, accepts: ["aa", String(repeating: "a", count: 50)], rejects: ["a"])
        assertLanguage(#"root ::= "ab"? "c"*"#, accepts: ["", "ab", "abccc", "cc"], rejects: ["a", "abab"])
        assertLanguage(#"root ::= ("x" | "yz")+"#, accepts: ["x", "yzx", "xxyz"], rejects: ["", "y"])
    }

    func testMultilineRulesAndComments() {
        let text = """
        # a comment
        root ::= item ("," item)*   # trailing comment
        item ::=
          [0-9]+ |
          "(" root ")"
        """
        assertLanguage(text, accepts: ["1", "1,22,(3,4)"], rejects: ["", "1,", "(1"])
    }

    func testPrefixesAcrossPartialUTF8() {
        let gr = g(#"root ::= "é" "😀""#)
        var m = GrammarMatcher(gr)
        // é is C3 A9; 😀 is F0 9F 98 80: feed them split at every byte.
        for b in Array("é😀".utf8) { XCTAssertTrue(m.accept([b])) }
        XCTAssertTrue(m.isComplete)
        var n = GrammarMatcher(gr)
        XCTAssertFalse(n.accept([0xC3, 0xA8]), "è is not é")
        XCTAssertTrue(n.accept([0xC3]))
        XCTAssertFalse(n.isComplete, "an unfinished character is not a complete sentence")
        XCTAssertFalse(GrammarMatcher(g(#"root ::= "a""#)).allows([0xC3]), "no two-byte character is allowed")
        XCTAssertFalse(GrammarMatcher(g(#"root ::= ."#)).allows([0xC0, 0x80]), "overlong forms are never UTF-8")
        XCTAssertFalse(GrammarMatcher(g(#"root ::= ."#)).allows([0xED, 0xA0]), "surrogates are never UTF-8")
        XCTAssertTrue(GrammarMatcher(g(#"root ::= [\u4e00-\u9fff]"#)).allows([0xE4]), "E4 can still become U+4E00...")
        XCTAssertFalse(GrammarMatcher(g(#"root ::= [\u4e00-\u9fff]"#)).allows([0xE3]), "E3 cannot")
    }

    func testRefusalsNameTheProblem() {
        func refusal(_ text: String) -> String {
            do { _ = try GBNF.parse(text); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal(#"item ::= "a""#).contains("no 'root' rule"))
        XCTAssertTrue(refusal(#"root ::= missing"#).contains("'missing' is used but never defined"))
        XCTAssertTrue(refusal("root ::= root \"a\" | \"b\"").contains("'root' is left-recursive"))
        XCTAssertTrue(refusal("root ::= x root \"b\"\nx ::= \"a\"?").contains("left-recursive"), "through a nullable rule")
        XCTAssertTrue(refusal(#"root ::= "a"{3001}"#).contains("exceeds 2000"))
        XCTAssertTrue(refusal(#"root ::= <[100]>"#).contains("token references"))
        XCTAssertTrue(refusal("root ::= \"a\"\nroot ::= \"b\"").contains("defined twice"))
        XCTAssertEqual(refusal("root ::= \"a\n"), "unterminated string literal (line 1, column 10)")
        XCTAssertTrue(refusal(#"root ::= "\q""#).contains("unknown escape"))
        XCTAssertTrue(refusal(#"root ::= *"#).contains("needs an item"))
    }

    func testNullableCyclesInLastPositionAreExpandedOnce() {
        // llama.cpp's "segfault" case: a star of a star. Each turn pushes nothing, so it is no
        // left recursion; expanding it must still end.
        assertLanguage("root ::= ( [x]* )*", accepts: ["", "x", "xx"], rejects: ["y", "yy"])
        assertLanguage("root ::= a\na ::= b | \"z\"\nb ::= \"\" a", accepts: ["z"], rejects: ["", "zz"])
    }

    func testCompleteVersusContinuable() {
        let gr = g(#"root ::= "a" "b"?"#)
        var m = GrammarMatcher(gr)
        XCTAssertTrue(m.accept(Array("a".utf8)))
        XCTAssertTrue(m.isComplete)
        XCTAssertTrue(m.canContinue)
        XCTAssertTrue(m.accept(Array("b".utf8)))
        XCTAssertTrue(m.isComplete)
        XCTAssertFalse(m.canContinue)
    }

    func testTokenConstraint() {
        let gr = g(#"root ::= "{" [0-9]+ "}""#)
        let pieces: [[UInt8]?] = [Array("{".utf8), Array("12".utf8), Array("}".utf8), Array("{1".utf8), nil, Array("x".utf8), []]
        let vocab = ConstraintVocabulary(pieces: pieces, endTokens: [4])
        var c = TokenConstraint(grammar: gr, vocabulary: vocab)
        XCTAssertEqual((0..<7).filter { c.allows(Int32($0)) }, [0, 3])
        c.accept(3)
        XCTAssertEqual((0..<7).filter { c.allows(Int32($0)) }, [1, 2])
        c.accept(2)
        XCTAssertEqual((0..<7).filter { c.allows(Int32($0)) }, [4], "complete: only the end token")
    }
}

// The forced tool-call grammar: one call, of one of the tools, name then arguments, the
// arguments valid against that tool's schema, between the template's delimiters.
import Grammar
import ReproJSON
import XCTest

final class ToolCallGrammarTests: XCTestCase {
    let weather: JSONValue = ["type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer", "minimum": 1, "maximum": 7]],
                              "required": ["city"], "additionalProperties": false]

    func grammar(_ tools: [ToolCallGrammar.Tool]) throws -> Grammar {
        try GBNF.parse(try ToolCallGrammar.gbnf(tools: tools, open: "<tool_call>\n", close: "\n</tool_call>"))
    }

    func testOneCallOfOneToolWithValidArguments() throws {
        let g = try grammar([ToolCallGrammar.Tool(name: "get_weather", parameters: weather, path: "p0"),
                             ToolCallGrammar.Tool(name: "ping", parameters: nil, path: "p1")])
        let valid = [
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 7}}\n</tool_call>",
            "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"é\"}}\n</tool_call>",
            "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>",
        ]
        for text in valid { XCTAssertEqual(matches(g, text).complete, true, text) }
        let invalid = [
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>",                   // city required
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"P\", \"days\": 8}}\n</tool_call>",
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"P\", \"x\": 1}}\n</tool_call>",
            "<tool_call>\n{\"name\": \"ping\", \"arguments\": {\"a\": 1}}\n</tool_call>",                   // takes none
            "<tool_call>\n{\"name\": \"other\", \"arguments\": {}}\n</tool_call>",
            "<tool_call>\n{\"arguments\": {}, \"name\": \"ping\"}\n</tool_call>",                           // name first
            "{\"name\": \"ping\", \"arguments\": {}}",
            "<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>\n<tool_call>",              // one call
        ]
        for text in invalid { XCTAssertFalse(matches(g, text).complete, text) }
    }

    func testSchemaErrorsNameTheToolsPath() throws {
        let bad: JSONValue = ["type": "object", "properties": ["code": ["type": "string", "pattern": "^[A-Z]+$"]]]
        XCTAssertThrowsError(try ToolCallGrammar.gbnf(tools: [ToolCallGrammar.Tool(name: "a", parameters: weather, path: "params.tools[0].function.parameters"),
                                                             ToolCallGrammar.Tool(name: "b", parameters: bad, path: "params.tools[1].function.parameters")],
                                                     open: "<", close: ">")) { error in
            XCTAssertEqual((error as? JSONSchemaError)?.path, "params.tools[1].function.parameters.properties.code.pattern")
        }
    }

    /// Each tool's $refs resolve in its own schema, even where two tools use the same names.
    func testRefsResolveWithinTheirOwnTool() throws {
        func listOf(_ type: String) -> JSONValue {
            ["$defs": ["item": ["type": .string(type)]], "type": "object",
             "properties": ["items": ["type": "array", "items": ["$ref": "#/$defs/item"]]], "required": ["items"]]
        }
        let g = try grammar([ToolCallGrammar.Tool(name: "ints", parameters: listOf("integer"), path: "a"),
                             ToolCallGrammar.Tool(name: "strs", parameters: listOf("string"), path: "b")])
        XCTAssertTrue(matches(g, "<tool_call>\n{\"name\": \"ints\", \"arguments\": {\"items\": [1, 2]}}\n</tool_call>").complete)
        XCTAssertTrue(matches(g, "<tool_call>\n{\"name\": \"strs\", \"arguments\": {\"items\": [\"x\"]}}\n</tool_call>").complete)
        XCTAssertFalse(matches(g, "<tool_call>\n{\"name\": \"ints\", \"arguments\": {\"items\": [\"x\"]}}\n</tool_call>").complete)
        XCTAssertFalse(matches(g, "<tool_call>\n{\"name\": \"strs\", \"arguments\": {\"items\": [1]}}\n</tool_call>").complete)
    }
}

// generate {tools, toolChoice}: params (refusals at their paths, the canonical request a receipt
// replays), and the calls read back out of an answer in Hermes/Qwen's `<tool_call>` format, as
// vLLM's Hermes parser reads them.
import ReproJSON
import RPCProtocol
@testable import Server
import XCTest

final class ToolCallTests: XCTestCase {
    static let weather: JSONValue = ["type": "function", "function": [
        "name": "get_weather", "description": "Weather in a city.",
        "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]]]
    static let ask: JSONValue = [["role": "user", "content": "Weather in Paris?"]]

    func testParsesCallsAsHermesParsersDo() {
        let one = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
        XCTAssertEqual(ToolCalls.parse(one, format: .toolCallTags), [["name": "get_weather", "arguments": ["city": "Paris"]]])
        // Text around and between calls; whitespace inside the tags.
        let two = "Sure.\n<tool_call>\n {\"name\": \"a\", \"arguments\": {}} \n</tool_call>\n<tool_call>{\"name\": \"b\", \"arguments\": {\"x\": [1, 2.5, null]}}</tool_call> done"
        XCTAssertEqual(ToolCalls.parse(two, format: .toolCallTags),
                       [["name": "a", "arguments": [:]], ["name": "b", "arguments": ["x": [1, .double(2.5), nil]]]])
        // A last call without its closing tag (cut short) still counts if its JSON is whole.
        XCTAssertEqual(ToolCalls.parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"k\": \"v\"}}\n", format: .toolCallTags),
                       [["name": "a", "arguments": ["k": "v"]]])
        // Blocks that are not a call are left out; the others stay.
        let broken = "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"k\": \n</tool_call><tool_call>[1]</tool_call>" +
            "<tool_call>{\"arguments\": {}}</tool_call><tool_call>{\"name\": 7, \"arguments\": {}}</tool_call>" +
            "<tool_call>{\"name\": \"ok\", \"arguments\": \"{}\"}</tool_call>"
        XCTAssertEqual(ToolCalls.parse(broken, format: .toolCallTags), [["name": "ok", "arguments": "{}"]])
        XCTAssertEqual(ToolCalls.parse("No call here. </tool_call>", format: .toolCallTags), [])
    }

    func testToolParamsAreReadAndRecorded() throws {
        let p = try GenerateParams(["messages": Self.ask, "tools": [Self.weather], "toolChoice": "required"])
        XCTAssertEqual(p.tools?.tools.map(\.name), ["get_weather"])
        XCTAssertEqual(p.tools?.choice, .required)
        let canonical = p.canonicalRequest(tokens: [1, 2], seed: 3)
        XCTAssertEqual(canonical["tools"], [Self.weather])
        XCTAssertEqual(canonical["toolChoice"], "required")
        // The canonical request is valid params again, with the same tools and choice: a replay
        // compiles the same grammar and parses calls alike.
        let again = try GenerateParams(canonical)
        XCTAssertEqual(again.tools, p.tools)
        XCTAssertEqual(again.canonicalRequest(tokens: [1, 2], seed: 3), canonical)
        // The default choice is recorded; no tools, no fields (older receipts are unchanged).
        XCTAssertEqual(try GenerateParams(["messages": Self.ask, "tools": [Self.weather]]).canonicalRequest(tokens: [1], seed: 0)["toolChoice"], "auto")
        XCTAssertNil(try GenerateParams(["messages": Self.ask]).canonicalRequest(tokens: [1], seed: 0)["tools"])
        let named = try GenerateParams(["tokens": [1], "tools": [Self.weather], "toolChoice": ["type": "function", "function": ["name": "get_weather"]]])
        XCTAssertEqual(named.tools?.choice, .function("get_weather"))
        XCTAssertEqual(try GenerateParams(named.canonicalRequest(tokens: [1], seed: 0)).tools?.choice, .function("get_weather"))
        XCTAssertNil(try GenerateParams(["messages": Self.ask, "tools": [Self.weather], "toolChoice": "none"]).tools?.shown)
    }

    func testMessagesWithToolCallsAndResults() throws {
        let messages: JSONValue = [
            ["role": "user", "content": "Weather?"],
            ["role": "assistant", "content": nil, "tool_calls": [["id": "c1", "type": "function",
                                                                  "function": ["name": "get_weather", "arguments": "{\"city\": \"Paris\"}"]]]],
            ["role": "tool", "content": "{\"t\": 21}", "tool_call_id": "c1", "name": "get_weather"],
        ]
        guard case let .messages(turns, _) = try GenerateParams(["messages": messages]).prompt else { return XCTFail("not a chat") }
        XCTAssertNil(turns[1].content)
        XCTAssertEqual(turns[1].toolCalls?.count, 1)
        XCTAssertEqual(turns[2].toolCallID, "c1")
        XCTAssertEqual(turns[2].name, "get_weather")
        // As the template sees them: role, content (left out when null), then the others by name.
        let rendered = ChatRendering.messages(turns)
        XCTAssertEqual(rendered[2].members.map(\.key), ["name", "tool_call_id"])
        XCTAssertEqual(rendered[1].members.map(\.key), ["tool_calls"])
    }

    func testRefusalsNameTheirPath() {
        let cases: [(JSONValue, String)] = [
            (["messages": Self.ask, "tools": "get_weather"], "params.tools"),
            (["messages": Self.ask, "tools": []], "params.tools"),
            (["messages": Self.ask, "tools": [["type": "function", "function": ["description": "no name"]]]], "params.tools[0].function.name"),
            (["messages": Self.ask, "tools": [["type": "function", "function": ["name": "has space"]]]], "params.tools[0].function.name"),
            (["messages": Self.ask, "tools": [["type": "retrieval"]]], "params.tools[0].type"),
            (["messages": Self.ask, "tools": [["function": ["name": "a"]]]], "params.tools[0].type"),
            (["messages": Self.ask, "tools": [["type": "function", "function": ["name": "a", "params": [:]]]]], "params.tools[0].function.params"),
            (["messages": Self.ask, "tools": [["type": "function", "function": ["name": "a", "parameters": "object"]]]], "params.tools[0].function.parameters"),
            (["messages": Self.ask, "tools": [Self.weather, Self.weather]], "params.tools[1].function.name"),
            (["messages": Self.ask, "tools": [Self.weather], "toolChoice": "always"], "params.toolChoice"),
            (["messages": Self.ask, "tools": [Self.weather], "toolChoice": ["type": "function", "function": ["name": "nope"]]], "params.toolChoice.function.name"),
            (["messages": Self.ask, "toolChoice": "required"], "params.toolChoice"),
            (["messages": Self.ask, "tools": [Self.weather], "toolChoice": "required", "format": "json"], "params.format"),
            (["prompt": "x", "tools": [Self.weather], "toolChoice": "required", "beams": 2, "temperature": 0], "params.toolChoice"),
            (["messages": [["role": "user", "content": "x", "tool_calls": []]]], "params.messages[0].tool_calls"),
            (["messages": [["role": "assistant"]]], "params.messages[0].content"),
            (["messages": [["role": "user", "content": "x", "tool_call_id": "c"]]], "params.messages[0].tool_call_id"),
            (["messages": [["role": "assistant", "tool_calls": [["function": ["name": "a"]]]]]], "params.messages[0].tool_calls[0].function.arguments"),
            (["messages": [["role": "assistant", "tool_calls": [["function": ["name": "a", "arguments": "{nope"]]]]]],
             "params.messages[0].tool_calls[0].function.arguments"),
            (["messages": [["role": "assistant", "tool_calls": [["type": "x", "function": ["name": "a", "arguments": [:]]]]]]],
             "params.messages[0].tool_calls[0].type"),
            (["messages": [["role": "assistant", "tool_calls": [["function": ["name": "a", "arguments": [:], "extra": 1]]]]]],
             "params.messages[0].tool_calls[0].function.extra"),
        ]
        for (params, path) in cases {
            XCTAssertThrowsError(try GenerateParams(params), "\(params)") { error in
                XCTAssertEqual((error as? JSONFieldError)?.path, path, "\(params): \(error)")
            }
        }
    }
}

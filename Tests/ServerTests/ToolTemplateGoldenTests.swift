// Tool definitions, assistant tool calls and tool results, through the daemon's own params and
// rendering (GenerateParams, ChatRendering), must render exactly as jinja2 in transformers'
// environment, and as transformers itself (Golden/chat-tool-templates.json, written by
// scripts/make_tool_call_golden.py, which checks the two agree): the same bytes, or an error
// where jinja2 raised one (SmolLM2's template reads every message's content).
@testable import ChatTemplates
import Foundation
import ModelFiles
import ReproJSON
import RPCProtocol
@testable import Server
import TestSupport
import XCTest

final class ToolTemplateGoldenTests: XCTestCase {
    static func golden() throws -> JSONValue {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/chat-tool-templates.json")
        return try JSONValue.parse(Array(try Data(contentsOf: url)))
    }

    func testEveryToolConversationRendersAsJinja2() throws {
        let golden = try Self.golden()
        let toolSets = try XCTUnwrap(golden["tool_sets"])
        let models = try XCTUnwrap(golden["models"]?.arrayValue)
        XCTAssertEqual(models.count, 2, "smollm2 and qwen2.5 have chat templates")
        var compared = 0, raised = 0
        for model in models {
            let name = try XCTUnwrap(model["name"]?.stringValue)
            let template = try ChatTemplate(source: try XCTUnwrap(model["template"]?.stringValue))
            for c in try XCTUnwrap(model["cases"]?.arrayValue) {
                let add = try XCTUnwrap(c["add_generation_prompt"]?.boolValue)
                let label = "\(name) [\(c["name"]?.stringValue ?? "?")] addGenerationPrompt=\(add)"
                var params: [String: JSONValue] = ["messages": try XCTUnwrap(c["messages"]), "addGenerationPrompt": .bool(add)]
                if let set = c["tools"]?.stringValue { params["tools"] = toolSets[set] }
                let p = try GenerateParams(.object(params))
                guard case let .messages(turns, addGenerationPrompt) = p.prompt else { return XCTFail("\(label): not a chat") }
                let result = Result {
                    try template.render(messages: ChatRendering.messages(turns), tools: p.tools?.shown?.map { ChatRendering.input($0.json) },
                                        addGenerationPrompt: addGenerationPrompt,
                                        bosToken: model["bos_token"]?.stringValue ?? "", eosToken: model["eos_token"]?.stringValue ?? "")
                }
                compared += 1
                switch (c["output"]?.stringValue, result) {
                case let (want?, .success(got)):
                    XCTAssertEqual(Array(got.utf8), Array(want.utf8), "\(label)\n want: \(want.debugDescription)\n  got: \(got.debugDescription)")
                case let (nil, .failure(error)):
                    raised += 1
                    // jinja2's UndefinedError, with its message.
                    XCTAssertEqual(c["error"]?["type"]?.stringValue, "UndefinedError", label)
                    guard case let .undefined(message, _)? = error as? TemplateError else { return XCTFail("\(label): \(error)") }
                    XCTAssertEqual(message, c["error"]?["message"]?.stringValue, label)
                case let (want, got):
                    XCTFail("\(label): jinja2 gave \(want ?? "an error: \(c["error"] ?? .null)"), reprolm \(got)")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 96)
        print("tool templates: \(compared) renderings compared with jinja2 (\(raised) raise in both)")
    }

    /// Which templates take tools, and in which call format: what `generate {tools}` goes by.
    func testTemplatesSayWhetherTheyUseToolsAndHowTheyWriteCalls() throws {
        for model in try XCTUnwrap(Self.golden()["models"]?.arrayValue) {
            let name = try XCTUnwrap(model["name"]?.stringValue)
            let template = try ChatTemplate(source: try XCTUnwrap(model["template"]?.stringValue))
            XCTAssertEqual(template.reads(variable: "tools"), name == "qwen2.5-coder-0.5b", name)
            XCTAssertEqual(template.toolCallFormat, name == "qwen2.5-coder-0.5b" ? .toolCallTags : nil, name)
            XCTAssertTrue(template.reads(variable: "messages"), name)
            XCTAssertFalse(template.reads(variable: "documents"), name)
        }
    }

    func testGoldenTemplatesAreStillTheModelsTemplates() throws {
        var checked = 0
        for model in try XCTUnwrap(Self.golden()["models"]?.arrayValue) {
            guard let name = model["name"]?.stringValue, let path = TestModels.path(name) else { continue }
            XCTAssertEqual(try GGUFFile(path: path).metadata.string("tokenizer.chat_template"), model["template"]?.stringValue,
                           "\(name): re-run scripts/make_tool_call_golden.py")
            checked += 1
        }
        if checked == 0 { throw XCTSkip("no model files present") }
    }
}

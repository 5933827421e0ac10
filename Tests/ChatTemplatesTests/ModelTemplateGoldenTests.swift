// The chat templates of the catalogue models, rendered on every golden conversation with and
// without the generation prompt, must give exactly jinja2's bytes (or its error). The templates
// come from the golden file, so this runs without the models; the last test checks, when the
// models are present, that their GGUFs still carry the templates the golden file was made from.

import ChatTemplates
import Crypto
import ModelFiles
import ReproJSON
import TestSupport
import XCTest

final class ModelTemplateGoldenTests: XCTestCase {
    func testEveryGoldenConversationRendersAsJinja2() throws {
        let golden = try GoldenFiles.load("chat_templates")
        let models = try XCTUnwrap(golden["models"]?.arrayValue)
        XCTAssertEqual(models.count, 2, "smollm2 and qwen2.5 have chat templates; gemma3's GGUF has none")
        for model in models {
            let name = try XCTUnwrap(model["name"]?.stringValue)
            let template = try ChatTemplate(source: try XCTUnwrap(model["template"]?.stringValue))
            let bos = try XCTUnwrap(model["bos_token"]?.stringValue)
            let eos = try XCTUnwrap(model["eos_token"]?.stringValue)
            let cases = try XCTUnwrap(model["cases"]?.arrayValue)
            XCTAssertGreaterThanOrEqual(cases.count, 48, name)
            for c in cases {
                let label = "\(name) [\(c["name"]?.stringValue ?? "?")] addGenerationPrompt=\(c["add_generation_prompt"]?.boolValue ?? false)"
                let messages = try GoldenFiles.messages(c["messages"])
                let add = try XCTUnwrap(c["add_generation_prompt"]?.boolValue)
                let result = Result {
                    try template.render(messages: messages, addGenerationPrompt: add, bosToken: bos, eosToken: eos)
                }
                if let problem = try Expected(c).mismatch(result) { XCTFail("\(label): \(problem)") }
            }
        }
    }

    func testGoldenTemplatesAreStillTheModelsTemplates() throws {
        let golden = try GoldenFiles.load("chat_templates")
        var checked = 0
        for model in try XCTUnwrap(golden["models"]?.arrayValue) {
            let name = try XCTUnwrap(model["name"]?.stringValue)
            guard let path = TestModels.path(name) else { continue }
            let template = try GGUFFile(path: path).metadata.string("tokenizer.chat_template")
            let digest = SHA256.hash(data: Array(template.utf8)).map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(digest, model["template_sha256"]?.stringValue, "\(name): re-run scripts/make_chat_template_golden.py")
            checked += 1
        }
        if checked == 0 { throw XCTSkip("no model files present") }
    }
}

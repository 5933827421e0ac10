// generate {messages}: the conversation rendered with the chat template the GGUF file carries
// (`tokenizer.chat_template`), parsed once when the model loads.
import ChatTemplates
import Engine
import ReproJSON
import RPCProtocol

enum ChatRendering {
    static func render(_ turns: [ChatTurn], addGenerationPrompt: Bool, model: LoadedModel) throws -> String {
        guard let gguf = model.gguf, let parsed = model.chatTemplate else {
            throw JSONFieldError(path: "params.messages", message: "cannot be used with \(model.name): its model file has no chat template")
        }
        let template: ChatTemplate
        switch parsed {
        case .success(let t): template = t
        case .failure(let error):
            throw JSONFieldError(path: "params.messages", message: "cannot be rendered: the chat template of \(model.name) is not supported (\(error))")
        }
        let tokenizer = gguf.tokenizer
        let bos = tokenizer.bosToken.flatMap(tokenizer.tokenText) ?? ""
        let eos = tokenizer.eosToken.flatMap(tokenizer.tokenText) ?? ""
        do {
            return try template.render(messages: turns.map { ChatMessage(role: $0.role, content: $0.content) },
                                       addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: eos)
        } catch {
            throw JSONFieldError(path: "params.messages", message: "the chat template of \(model.name) refused them: \(error)")
        }
    }
}

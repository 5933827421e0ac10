// The encoder-decoder family (Whisper; a text-to-text family such as T5 would be one more
// conformer): encode sources once into states, start target sequences on those states (their
// cross-attention keys and values computed once per source and shared by every sequence on it),
// then step any number of sequences together. As in the decoder-only backbone
// (DecoderModel.swift), every row of a step depends only on its own sequence, so a row's logits
// are the same bits alone or in any batch, for any thread count.
import Kernels

/// A sequence-to-sequence model.
public protocol EncoderDecoderModel: AnyObject, Sendable {
    /// One input to the encoder (Whisper: a window of log-mel features).
    associatedtype Source
    /// Logits per requested row.
    var targetVocabulary: Int { get }
    /// Positions a target sequence may hold.
    var maxTargetPositions: Int { get }
    /// The encoder's output for each source.
    func encode(_ sources: [Source], pool: ThreadPool?) throws -> [EncoderStates]
    /// An empty target sequence on each source's states.
    func startSequences(on states: [EncoderStates], pool: ThreadPool?) throws -> [TargetSequence]
    /// Runs the items' tokens (a prompt of several, or one per step), appends them to their
    /// sequences, and returns each item's requested rows (logits: rows × targetVocabulary).
    func step(_ items: [TargetStep], pool: ThreadPool?) throws -> [[Float]]
}

extension EncoderDecoderModel {
    /// An empty target sequence on one source's states.
    public func startSequence(on states: EncoderStates, pool: ThreadPool?) throws -> TargetSequence {
        try startSequences(on: [states], pool: pool)[0]
    }
}

/// The encoder's output for one source: rows × width floats, row-major.
public struct EncoderStates: Sendable, Equatable {
    public let rows: Int
    public let width: Int
    public let values: [Float]

    public init(rows: Int, width: Int, values: [Float]) throws {
        let (count, overflow) = rows.multipliedReportingOverflow(by: width)
        guard rows > 0, width > 0, !overflow, values.count == count else {
            throw ModelError.badHyperparameter("encoder states of \(values.count) values for \(rows) rows of \(width)")
        }
        self.rows = rows
        self.width = width
        self.values = values
    }
}

/// One sequence's part of a step.
public struct TargetStep {
    public let sequence: TargetSequence
    public let tokens: [Int32]
    public let logits: LogitRows
    public init(sequence: TargetSequence, tokens: [Int32], logits: LogitRows) {
        self.sequence = sequence
        self.tokens = tokens
        self.logits = logits
    }
}

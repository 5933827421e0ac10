// `keepAlive`: how long a model stays loaded once idle, on models/load and on the requests that
// use a model (generate, score, encode, tokenize, detokenize), as Ollama's keep_alive: a number
// of seconds or a duration string ("90s", "5m", "1h30m", "250ms"); 0 unloads the model as soon as
// it is idle; a negative value ("-1") keeps it loaded until models/unload. It never changes an
// answer, so it is not part of any receipt.
import ReproJSON

public enum KeepAlive {
    /// The field as seconds (infinity: forever), nil when absent.
    public static func read(_ r: inout JSONObjectReader, path: String) throws -> Double? {
        guard let v = r.value("keepAlive") else { return nil }
        let seconds: Double?
        if let d = v.doubleValue {
            seconds = d
        } else if let s = v.stringValue {
            seconds = parse(s)
        } else {
            throw JSONFieldError(path: path + ".keepAlive", message: "must be a number of seconds or a duration string, not \(v.typeName)")
        }
        guard let seconds, !seconds.isNaN else {
            throw JSONFieldError(path: path + ".keepAlive", message: "must be a number of seconds or a duration such as \"90s\", \"5m\", \"1h30m\" or \"-1\"")
        }
        return seconds < 0 ? .infinity : seconds
    }

    /// A command-line duration as seconds (infinity for a negative one), nil when not one.
    public static func seconds(_ text: String) -> Double? {
        parse(text).map { $0 < 0 ? .infinity : $0 }
    }

    /// "1h30m", "90s", "250ms", "-1", "300": the seconds, or nil when not a duration.
    static func parse(_ text: String) -> Double? {
        var s = Substring(text)
        var sign = 1.0
        if s.first == "-" { sign = -1; s = s.dropFirst() }
        if let plain = Double(s), !s.isEmpty, s.allSatisfy({ $0.isNumber || $0 == "." }) { return sign * plain }
        let units: [(String, Double)] = [("ms", 0.001), ("h", 3600), ("m", 60), ("s", 1)]
        var total = 0.0
        guard !s.isEmpty else { return nil }
        while !s.isEmpty {
            let digits = s.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(digits), !digits.isEmpty else { return nil }
            s = s.dropFirst(digits.count)
            guard let (unit, scale) = units.first(where: { s.hasPrefix($0.0) }) else { return nil }
            s = s.dropFirst(unit.count)
            total += value * scale
        }
        return sign * total
    }
}

import Foundation

/// The template language of a SQL model file: the part of dbt's Jinja that models need, parsed once (at plan
/// time, so mistakes are reported with their line) and rendered per run.
///
/// - `{{ ref('model') }}`: another model's relation (and a dependency on it);
/// - `{{ source('source', 'table') }}`: a table declared under `sources:` in the folder's schema.yaml;
/// - `{{ this }}`: the model's own relation; `{{ var('name') }}` / `{{ var('name', 'default') }}`: the node's `vars`;
/// - `{{ config(materialized='incremental', unique_key='id') }}`: the model's settings (rendered as nothing);
/// - `{% if is_incremental() %} … {% else %} … {% endif %}` (also `if not is_incremental()`): text kept only when
///   the model is incremental and its table exists;
/// - `{# comment #}`; `{%-` and `-%}` trim whitespace as in Jinja.
///
/// Anything else inside `{{ }}` or `{% %}` is an error naming the line.
struct ModelTemplate: Sendable {
    indirect enum Piece: Sendable {
        case text(String)
        case ref(String)
        case source(String, String)
        case this
        case variable(String, default: String?)
        case incremental(negated: Bool, then: [Piece], otherwise: [Piece])
    }

    /// A reference the template makes, with its 1-based line.
    struct Reference: Sendable, Equatable {
        let name: String
        let line: Int
    }

    let pieces: [Piece]
    let refs: [Reference]
    let sources: [(source: String, table: String, line: Int)]
    /// Settings from `{{ config(...) }}`: strings, or lists of strings (`unique_key=['a', 'b']`).
    let config: [String: [String]]
    let usesIncremental: Bool

    /// A mistake in a template, at a line.
    struct Failure: Error, Sendable {
        let line: Int
        let message: String
    }

    init(_ text: String) throws(Failure) {
        var parser = Parser(chars: Array(text))
        let (pieces, end) = try parser.parse(until: [])
        if let end { throw Failure(line: end.line, message: "{% \(end.word) %} without {% if %}") }
        self.pieces = pieces
        refs = parser.refs
        sources = parser.sources
        config = parser.config
        usesIncremental = parser.usesIncremental
    }

    /// What rendering needs: how relations are written, the vars, and whether this build is incremental.
    struct Context {
        let relation: (ModelRelation) -> String
        let vars: [String: String]
        let isIncremental: Bool
    }

    /// The SQL, or a failure naming an unknown var.
    func render(_ context: Context, this: String) throws(Failure) -> String {
        var out = ""
        try Self.render(pieces, context, this: this, into: &out)
        return out
    }

    private static func render(_ pieces: [Piece], _ context: Context, this: String, into out: inout String) throws(Failure) {
        for piece in pieces {
            switch piece {
            case let .text(text): out += text
            case let .ref(name): out += context.relation(.model(name))
            case let .source(source, table): out += context.relation(.source(source, table))
            case .this: out += this
            case let .variable(name, fallback):
                guard let value = context.vars[name] ?? fallback else { throw Failure(line: 0, message: "var('\(name)') has no value: give it under vars") }
                out += value
            case let .incremental(negated, then, otherwise):
                try render(context.isIncremental != negated ? then : otherwise, context, this: this, into: &out)
            }
        }
    }

    private struct Parser {
        let chars: [Character]
        var i = 0
        var line = 1
        var refs: [Reference] = []
        var sources: [(source: String, table: String, line: Int)] = []
        var config: [String: [String]] = [:]
        var usesIncremental = false
        /// A `{%-` seen: the text before it loses its trailing whitespace.
        var trimNextStart = false

        init(chars: [Character]) { self.chars = chars }

        /// Pieces up to one of `ends` (`else`, `endif`), which is returned with its line; nil at the end of the text.
        mutating func parse(until ends: Set<String>) throws(Failure) -> ([Piece], (word: String, line: Int)?) {
            var pieces: [Piece] = []
            var text = ""
            func flushText() {
                if !text.isEmpty { pieces.append(.text(text)) }
                text = ""
            }
            while i < chars.count {
                let c = chars[i]
                guard c == "{", i + 1 < chars.count, "{%#".contains(chars[i + 1]) else {
                    if c == "\n" { line += 1 }
                    text.append(c)
                    i += 1
                    continue
                }
                let opener = chars[i + 1]
                let closer: [Character] = opener == "{" ? ["}", "}"] : opener == "%" ? ["%", "}"] : ["#", "}"]
                let startLine = line
                var j = i + 2
                var body = ""
                while j + 1 < chars.count, !(chars[j] == closer[0] && chars[j + 1] == closer[1]) {
                    if chars[j] == "\n" { line += 1 }
                    body.append(chars[j])
                    j += 1
                }
                guard j + 1 < chars.count else { throw Failure(line: startLine, message: "'{\(opener)' is never closed with '\(String(closer))'") }
                i = j + 2
                if opener == "#" { continue }
                var trimmedBody = Substring(body)
                if trimmedBody.hasPrefix("-") {
                    trimmedBody = trimmedBody.dropFirst()
                    while let last = text.last, last.isWhitespace { text.removeLast() }
                }
                if trimmedBody.hasSuffix("-") {
                    trimmedBody = trimmedBody.dropLast()
                    while i < chars.count, chars[i].isWhitespace {
                        if chars[i] == "\n" { line += 1 }
                        i += 1
                    }
                }
                let words = trimmedBody.trimmingCharacters(in: .whitespacesAndNewlines)
                if opener == "{" {
                    flushText()
                    if let piece = try expression(words, line: startLine) { pieces.append(piece) }
                    continue
                }
                let tokens = words.split(whereSeparator: { $0.isWhitespace }).map(String.init)
                switch tokens.first {
                case "if":
                    let condition = tokens.dropFirst().joined(separator: " ")
                    let negated: Bool
                    switch condition.replacingOccurrences(of: " ", with: "") {
                    case "is_incremental()": negated = false
                    case "notis_incremental()": negated = true
                    default:
                        throw Failure(line: startLine, message: "unsupported condition '{% if \(condition) %}': models support {% if is_incremental() %} and {% if not is_incremental() %}")
                    }
                    usesIncremental = true
                    flushText()
                    let (then, end) = try parse(until: ["else", "endif"])
                    var otherwise: [Piece] = []
                    guard let end else { throw Failure(line: startLine, message: "{% if %} without {% endif %}") }
                    if end.word == "else" {
                        let (rest, close) = try parse(until: ["endif"])
                        guard close != nil else { throw Failure(line: startLine, message: "{% if %} without {% endif %}") }
                        otherwise = rest
                    }
                    pieces.append(.incremental(negated: negated, then: then, otherwise: otherwise))
                case let word? where word == "else" || word == "endif":
                    guard ends.contains(word) else { throw Failure(line: startLine, message: "{% \(word) %} without {% if %}") }
                    flushText()
                    return (pieces, (word, startLine))
                default:
                    throw Failure(line: startLine, message: "unsupported tag '{% \(words) %}': models support {% if is_incremental() %}, {% else %} and {% endif %}")
                }
            }
            flushText()
            return (pieces, nil)
        }

        /// The piece of a `{{ … }}`; nil for `config(...)`, which renders as nothing.
        mutating func expression(_ text: String, line: Int) throws(Failure) -> Piece? {
            if text == "this" { return .this }
            guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
                throw Failure(line: line, message: "unsupported expression '{{ \(text) }}': models support ref(), source(), this, var() and config()")
            }
            let function = text[..<open].trimmingCharacters(in: .whitespaces)
            let arguments = try Self.arguments(String(text[text.index(after: open)..<text.index(before: text.endIndex)]), line: line)
            let positional = arguments.filter { $0.name == nil }.map(\.values)
            func single(_ index: Int) -> String? { positional.indices.contains(index) && positional[index].count == 1 ? positional[index][0] : nil }
            switch function {
            case "ref":
                guard positional.count == 1, let name = single(0) else { throw Failure(line: line, message: "ref() takes one model name: {{ ref('stg_orders') }}") }
                refs.append(Reference(name: name, line: line))
                return .ref(name)
            case "source":
                guard positional.count == 2, let source = single(0), let table = single(1) else {
                    throw Failure(line: line, message: "source() takes a source and a table: {{ source('raw', 'orders') }}")
                }
                sources.append((source, table, line))
                return .source(source, table)
            case "var":
                guard (1...2).contains(positional.count), let name = single(0) else { throw Failure(line: line, message: "var() takes a name and an optional default: {{ var('days', '7') }}") }
                return .variable(name, default: positional.count == 2 ? single(1) : nil)
            case "config":
                for argument in arguments {
                    guard let name = argument.name else { throw Failure(line: line, message: "config() takes named settings: {{ config(materialized='table') }}") }
                    config[name] = argument.values
                }
                return nil
            default:
                throw Failure(line: line, message: "unsupported function '\(function)()': models support ref(), source(), var() and config()")
            }
        }

        /// `'a', key='b', other=['c', 'd'], flag=true` as (name, values) pairs.
        static func arguments(_ text: String, line: Int) throws(Failure) -> [(name: String?, values: [String])] {
            var result: [(name: String?, values: [String])] = []
            let chars = Array(text)
            var i = 0
            func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }
            func scalar() throws(Failure) -> String {
                skipSpace()
                guard i < chars.count else { throw Failure(line: line, message: "a value is missing in '\(text)'") }
                if chars[i] == "'" || chars[i] == "\"" {
                    let quote = chars[i]
                    var j = i + 1
                    while j < chars.count, chars[j] != quote { j += 1 }
                    guard j < chars.count else { throw Failure(line: line, message: "a string is never closed in '\(text)'") }
                    defer { i = j + 1 }
                    return String(chars[(i + 1)..<j])
                }
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "." || chars[j] == "-" { j += 1 }
                guard j > i else { throw Failure(line: line, message: "unexpected '\(chars[i])' in '\(text)'") }
                defer { i = j }
                return String(chars[i..<j])
            }
            while true {
                skipSpace()
                if i >= chars.count { break }
                var name: String?
                let mark = i
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                var k = j
                while k < chars.count, chars[k].isWhitespace { k += 1 }
                if j > i, k < chars.count, chars[k] == "=" {
                    name = String(chars[i..<j])
                    i = k + 1
                } else {
                    i = mark
                }
                skipSpace()
                var values: [String] = []
                if i < chars.count, chars[i] == "[" {
                    i += 1
                    while true {
                        skipSpace()
                        if i < chars.count, chars[i] == "]" { i += 1; break }
                        values.append(try scalar())
                        skipSpace()
                        if i < chars.count, chars[i] == "," { i += 1; continue }
                        guard i < chars.count, chars[i] == "]" else { throw Failure(line: line, message: "a list is never closed in '\(text)'") }
                    }
                } else {
                    values = [try scalar()]
                }
                result.append((name, values))
                skipSpace()
                if i < chars.count {
                    guard chars[i] == "," else { throw Failure(line: line, message: "expected ',' in '\(text)'") }
                    i += 1
                }
            }
            return result
        }
    }
}

/// A relation a model names: another model, or a declared source table.
enum ModelRelation: Hashable, Sendable {
    case model(String)
    case source(String, String)
}

/// A lexical token of the expression language.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)          // bare name or keyword, original spelling
        case quotedIdentifier(String)    // "odd name"
        case integer(Int64)
        case decimal(String)             // a numeric literal with a point or exponent
        case string(String)              // 'text', '' escapes a quote
        case parameter(String)           // ${name}
        case symbol(String)              // operators and punctuation
        case end
    }

    let kind: Kind
    let span: Span

    /// The keyword this token spells, upper-cased, if it is a bare identifier.
    var keyword: String? {
        if case let .identifier(name) = kind { return name.uppercased() }
        return nil
    }
}

/// Splits expression text into tokens; offsets count Characters from 0.
struct Lexer {
    private let chars: [Character]
    private let source: String
    private var position = 0

    init(_ source: String) {
        self.source = source
        chars = Array(source)
    }

    mutating func tokenize() throws(ExpressionError) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func error(_ message: String, _ start: Int, _ end: Int) -> ExpressionError {
        ExpressionError(code: "syntax_error", message: message, span: Span(start, end), source: source)
    }

    private mutating func next() throws(ExpressionError) -> Token {
        while position < chars.count, chars[position].isWhitespace { position += 1 }
        let start = position
        guard position < chars.count else { return Token(kind: .end, span: Span(start, start)) }
        let c = chars[position]

        if c.isLetter || c == "_" {
            while position < chars.count, chars[position].isLetter || chars[position].isNumber || chars[position] == "_" { position += 1 }
            return Token(kind: .identifier(String(chars[start..<position])), span: Span(start, position))
        }
        if c.isASCII, c.isNumber || (c == "." && position + 1 < chars.count && chars[position + 1].isASCII && chars[position + 1].isNumber) {
            return try number(start)
        }
        if c == "'" { return try quoted(start, quote: "'") }
        if c == "\"" { return try quoted(start, quote: "\"") }
        if c == "$" {
            guard position + 1 < chars.count, chars[position + 1] == "{" else { throw error("expected '{' after '$' for a parameter like ${name}", start, start + 1) }
            position += 2
            let nameStart = position
            while position < chars.count, chars[position] != "}" { position += 1 }
            guard position < chars.count else { throw error("unterminated parameter reference: missing '}'", start, position) }
            let name = String(chars[nameStart..<position]).trimmingCharacters(in: .whitespaces)
            position += 1
            guard !name.isEmpty else { throw error("empty parameter name in ${}", start, position) }
            return Token(kind: .parameter(name), span: Span(start, position))
        }
        for symbol in ["<>", "!=", "<=", ">=", "||", "::"] where matches(symbol) {
            position += 2
            return Token(kind: .symbol(symbol), span: Span(start, position))
        }
        if "+-*/%=<>(),.".contains(c) {
            position += 1
            return Token(kind: .symbol(String(c)), span: Span(start, position))
        }
        throw error("unexpected character '\(c)'", start, start + 1)
    }

    private func matches(_ symbol: String) -> Bool {
        let s = Array(symbol)
        guard position + s.count <= chars.count else { return false }
        return Array(chars[position..<(position + s.count)]) == s
    }

    private mutating func number(_ start: Int) throws(ExpressionError) -> Token {
        var isDecimal = false
        while position < chars.count, chars[position].isASCII, chars[position].isNumber { position += 1 }
        if position < chars.count, chars[position] == "." {
            isDecimal = true
            position += 1
            while position < chars.count, chars[position].isASCII, chars[position].isNumber { position += 1 }
        }
        if position < chars.count, chars[position] == "e" || chars[position] == "E" {
            var p = position + 1
            if p < chars.count, chars[p] == "+" || chars[p] == "-" { p += 1 }
            if p < chars.count, chars[p].isASCII, chars[p].isNumber {
                isDecimal = true
                position = p
                while position < chars.count, chars[position].isASCII, chars[position].isNumber { position += 1 }
            }
        }
        let text = String(chars[start..<position])
        if isDecimal { return Token(kind: .decimal(text), span: Span(start, position)) }
        guard let value = Int64(text) else { return Token(kind: .decimal(text), span: Span(start, position)) }
        return Token(kind: .integer(value), span: Span(start, position))
    }

    private mutating func quoted(_ start: Int, quote: Character) throws(ExpressionError) -> Token {
        position += 1
        var text = ""
        while true {
            guard position < chars.count else {
                throw error(quote == "'" ? "unterminated string literal: missing closing '" : "unterminated quoted name: missing closing \"", start, position)
            }
            let c = chars[position]
            position += 1
            if c == quote {
                if position < chars.count, chars[position] == quote { text.append(quote); position += 1; continue }
                break
            }
            text.append(c)
        }
        let kind: Token.Kind = quote == "'" ? .string(text) : .quotedIdentifier(text)
        return Token(kind: kind, span: Span(start, position))
    }
}

import Foundation

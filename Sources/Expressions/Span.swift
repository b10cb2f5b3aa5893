/// A half-open range of character offsets in an expression's source text.
public struct Span: Sendable, Hashable, CustomStringConvertible {
    public let start: Int
    public let end: Int

    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = max(start, end)
    }

    /// The smallest span covering both.
    public func union(_ other: Span) -> Span { Span(min(start, other.start), max(end, other.end)) }

    /// 1-based columns, e.g. `5-9`.
    public var description: String { end - start <= 1 ? "\(start + 1)" : "\(start + 1)-\(end)" }
}

/// A problem with an expression: a syntax error, unknown column, type mismatch, or a row-level failure.
///
/// `code` is stable snake_case (`syntax_error`, `unknown_column`, `type_mismatch`, `unknown_function`,
/// `unknown_parameter`, `division_by_zero`, `out_of_range`, `invalid_cast`, `invalid_argument`).
public struct ExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let span: Span?
    public let source: String

    public init(code: String, message: String, span: Span?, source: String) {
        self.code = code
        self.message = message
        self.span = span
        self.source = source
    }

    /// The message followed by the expression with a caret line under the offending span.
    public var description: String {
        guard let span else { return message }
        let width = max(1, min(span.end, source.count) - span.start)
        let caret = String(repeating: " ", count: span.start) + String(repeating: "^", count: width)
        return "\(message) (at column \(span))\n  \(source)\n  \(caret)"
    }
}

import Columnar

/// A Pratt parser for the SQL-like expression language.
///
/// Precedence, loosest first: OR, AND, NOT, comparisons (= <> < <= > >= IS IN BETWEEN LIKE ILIKE),
/// ||, + -, * / %, unary minus, ::cast.
///
/// The syntax tree is at most `maximumDepth` levels deep (`expression_too_deep` otherwise): the parser, the
/// binder and the evaluator walk it recursively, and a hostile expression (10,000 nested parentheses,
/// `NOT`s or chained `+`) must fail with an error, not exhaust a thread's stack.
struct Parser {
    /// The deepest tree an expression may have. Every nesting counts (parentheses, function arguments,
    /// NOT, unary minus) and so does every chained binary operator (`a + b + c` is two levels).
    static let maximumDepth = 256

    private let source: String
    private var tokens: [Token] = []
    private var index = 0
    private var lexError: ExpressionError?
    /// The depth of the tree being built at this point of the parse (an upper bound).
    private var depth = 0

    init(_ source: String) {
        self.source = source
        var lexer = Lexer(source)
        do { tokens = try lexer.tokenize() } catch { lexError = error }
    }

    mutating func parseExpression() throws(ExpressionError) -> Syntax {
        if let lexError { throw lexError }
        if case .end = peek.kind { throw error("expected an expression", peek.span) }
        let expression = try parse(precedence: 0)
        guard case .end = peek.kind else { throw error("unexpected \(describe(peek)) after the end of the expression", peek.span) }
        return expression
    }

    // MARK: - Token helpers

    private var peek: Token { tokens[index] }

    private mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func isSymbol(_ symbol: String) -> Bool { peek.kind == .symbol(symbol) }
    private func isKeyword(_ keyword: String) -> Bool { peek.keyword == keyword }
    private func isKeyword(at offset: Int, _ keyword: String) -> Bool {
        index + offset < tokens.count && tokens[index + offset].keyword == keyword
    }

    private mutating func expectSymbol(_ symbol: String, _ context: String) throws(ExpressionError) -> Token {
        guard isSymbol(symbol) else { throw error("expected '\(symbol)' \(context) but found \(describe(peek))", peek.span) }
        return advance()
    }

    private mutating func expectKeyword(_ keyword: String, _ context: String) throws(ExpressionError) -> Token {
        guard isKeyword(keyword) else { throw error("expected \(keyword) \(context) but found \(describe(peek))", peek.span) }
        return advance()
    }

    private func error(_ message: String, _ span: Span) -> ExpressionError {
        ExpressionError(code: "syntax_error", message: message, span: span, source: source)
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .end: "the end of the expression"
        case let .identifier(n): "'\(n)'"
        case let .quotedIdentifier(n): "\"\(n)\""
        case let .integer(v): "\(v)"
        case let .decimal(t): t
        case let .string(s): "'\(s)'"
        case let .parameter(p): "${\(p)}"
        case let .symbol(s): "'\(s)'"
        }
    }

    // MARK: - Pratt loop

    private static let reserved: Set<String> = ["AND", "OR", "NOT", "IS", "IN", "BETWEEN", "LIKE", "ILIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "AS", "FROM", "DISTINCT"]

    private func infixPrecedence() -> Int? {
        switch peek.kind {
        case .identifier:
            switch peek.keyword {
            case "OR": 1
            case "AND": 2
            case "IS", "IN", "BETWEEN", "LIKE", "ILIKE": 4
            case "NOT" where isKeyword(at: 1, "IN") || isKeyword(at: 1, "BETWEEN") || isKeyword(at: 1, "LIKE") || isKeyword(at: 1, "ILIKE"): 4
            default: nil
            }
        case let .symbol(s):
            switch s {
            case "=", "<>", "!=", "<", "<=", ">", ">=": 4
            case "||": 5
            case "+", "-": 6
            case "*", "/", "%": 7
            case "::": 9
            default: nil
            }
        default: nil
        }
    }

    private mutating func parse(precedence: Int) throws(ExpressionError) -> Syntax {
        let entryDepth = depth
        defer { depth = entryDepth }
        try descend()
        var left = try parsePrefix()
        while let p = infixPrecedence(), p > precedence {
            // Each chained operator puts the tree so far one level further down.
            try descend()
            left = try parseInfix(left, precedence: p)
        }
        return left
    }

    private mutating func descend() throws(ExpressionError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw ExpressionError(code: "expression_too_deep",
                                  message: "the expression nests more than \(Self.maximumDepth) levels (parentheses, NOTs and chained operators each count); split it with compute",
                                  span: peek.span, source: source)
        }
    }

    private mutating func parsePrefix() throws(ExpressionError) -> Syntax {
        let token = advance()
        switch token.kind {
        case let .integer(v): return .literal(.int(v), token.span)
        case let .decimal(text):
            guard let d = Double(text) else { throw error("invalid number \(text)", token.span) }
            return .literal(.float(d), token.span)
        case let .string(s): return .literal(.string(s), token.span)
        case let .parameter(name): return .parameter(name, token.span)
        case let .quotedIdentifier(name): return .column(name, token.span)
        case .symbol("("):
            let inner = try parse(precedence: 0)
            _ = try expectSymbol(")", "to close '('")
            return inner
        case .symbol("-"):
            let operand = try parse(precedence: 8)
            if case let .literal(.int(v), s) = operand { return .literal(.int(-v), token.span.union(s)) }
            if case let .literal(.float(v), s) = operand { return .literal(.float(-v), token.span.union(s)) }
            return .negate(operand, token.span.union(operand.span))
        case .symbol("+"):
            return try parse(precedence: 8)
        case let .identifier(name):
            return try parseIdentifier(name, token)
        case .end:
            throw error("expression ends too early: expected a value", token.span)
        default:
            throw error("unexpected \(describe(token)): expected a value, column or function", token.span)
        }
    }

    private mutating func parseIdentifier(_ name: String, _ token: Token) throws(ExpressionError) -> Syntax {
        switch name.uppercased() {
        case "NULL": return .literal(.null, token.span)
        case "TRUE": return .literal(.bool(true), token.span)
        case "FALSE": return .literal(.bool(false), token.span)
        case "NOT":
            let operand = try parse(precedence: 3)
            return .not(operand, token.span.union(operand.span))
        case "CASE": return try parseCase(token)
        case "CAST":
            _ = try expectSymbol("(", "after CAST")
            let value = try parse(precedence: 0)
            _ = try expectKeyword("AS", "in CAST(value AS type)")
            let (type, typeSpan) = try parseTypeName()
            let close = try expectSymbol(")", "to close CAST(")
            _ = typeSpan
            return .cast(value, type, token.span.union(close.span))
        case "DATE" where isStringLiteral, "TIMESTAMP" where isStringLiteral:
            let literal = advance()
            guard case let .string(text) = literal.kind else { break }
            let type: DataType = name.uppercased() == "DATE" ? .date : .timestamp
            return .cast(.literal(.string(text), literal.span), type, token.span.union(literal.span))
        default: break
        }
        if Self.reserved.contains(name.uppercased()) {
            throw error("unexpected keyword \(name.uppercased()): expected a value, column or function", token.span)
        }
        if isSymbol("(") { return try parseCall(name, token) }
        return .column(name, token.span)
    }

    private var isStringLiteral: Bool { if case .string = peek.kind { true } else { false } }

    private mutating func parseCall(_ name: String, _ token: Token) throws(ExpressionError) -> Syntax {
        _ = advance()
        let lowered = name.lowercased()
        var args: [Syntax] = []
        var distinct = false
        var star = false
        if lowered == "extract" {
            // EXTRACT(field FROM value) — PostgreSQL syntax; the field becomes a string argument.
            let fieldToken = advance()
            let field: String
            switch fieldToken.kind {
            case let .identifier(f), let .string(f): field = f.lowercased()
            default: throw error("expected a field name such as YEAR in EXTRACT(field FROM value)", fieldToken.span)
            }
            if isKeyword("FROM") { _ = advance() } else { _ = try expectSymbol(",", "after the EXTRACT field") }
            args = [.literal(.string(field), fieldToken.span), try parse(precedence: 0)]
        } else if isSymbol("*") {
            _ = advance()
            star = true
        } else if !isSymbol(")") {
            if isKeyword("DISTINCT") { _ = advance(); distinct = true }
            args.append(try parse(precedence: 0))
            while isSymbol(",") {
                _ = advance()
                args.append(try parse(precedence: 0))
            }
        }
        let close = try expectSymbol(")", "to close the argument list of \(name)(")
        return .call(lowered, args, distinct: distinct, star: star, token.span.union(close.span))
    }

    private mutating func parseCase(_ token: Token) throws(ExpressionError) -> Syntax {
        var branches: [(condition: Syntax, result: Syntax)] = []
        var subject: Syntax?
        if !isKeyword("WHEN") { subject = try parse(precedence: 0) }
        while isKeyword("WHEN") {
            _ = advance()
            var condition = try parse(precedence: 0)
            if let subject { condition = .binary(.equal, subject, condition, subject.span.union(condition.span)) }
            _ = try expectKeyword("THEN", "after the CASE WHEN condition")
            branches.append((condition, try parse(precedence: 0)))
        }
        guard !branches.isEmpty else { throw error("CASE needs at least one WHEN … THEN …", peek.span) }
        var otherwise: Syntax?
        if isKeyword("ELSE") {
            _ = advance()
            otherwise = try parse(precedence: 0)
        }
        let end = try expectKeyword("END", "to close CASE")
        return .caseWhen(branches, otherwise: otherwise, token.span.union(end.span))
    }

    private mutating func parseTypeName() throws(ExpressionError) -> (DataType, Span) {
        let token = advance()
        guard case var .identifier(name) = token.kind else { throw error("expected a type name such as int64 or string", token.span) }
        var span = token.span
        if name.lowercased() == "double", isKeyword("PRECISION") { _ = advance(); name = "double" }
        if (name.lowercased() == "decimal" || name.lowercased() == "numeric"), isSymbol("(") {
            _ = advance()
            var parts: [String] = []
            while !isSymbol(")") {
                let t = advance()
                if case let .integer(v) = t.kind { parts.append(String(v)) } else if !(t.kind == .symbol(",")) { throw error("expected decimal(precision, scale)", t.span) }
                if case .end = t.kind { break }
            }
            let close = advance()
            span = span.union(close.span)
            name += "(" + parts.joined(separator: ",") + ")"
        }
        guard let type = DataType(name: name) else {
            throw error("unknown type '\(name)'; expected one of \(DataType.spellings.joined(separator: ", "))", span)
        }
        return (type, span)
    }

    private mutating func parseInfix(_ left: Syntax, precedence: Int) throws(ExpressionError) -> Syntax {
        let token = advance()
        if case let .symbol(s) = token.kind {
            if s == "::" {
                let (type, span) = try parseTypeName()
                return .cast(left, type, left.span.union(span))
            }
            let op: BinaryOperator = switch s {
            case "!=": .notEqual
            default: BinaryOperator(rawValue: s)!
            }
            let right = try parse(precedence: precedence)
            return .binary(op, left, right, left.span.union(right.span))
        }
        var negated = false
        var keyword = token.keyword ?? ""
        if keyword == "NOT" {
            negated = true
            keyword = advance().keyword ?? ""
        }
        switch keyword {
        case "AND", "OR":
            let right = try parse(precedence: precedence)
            return .binary(keyword == "AND" ? .and : .or, left, right, left.span.union(right.span))
        case "IS":
            let not = isKeyword("NOT")
            if not { _ = advance() }
            let null = try expectKeyword("NULL", "after IS\(not ? " NOT" : "")")
            return .isNull(left, negated: not, left.span.union(null.span))
        case "IN":
            _ = try expectSymbol("(", "after IN")
            var items = [try parse(precedence: 0)]
            while isSymbol(",") {
                _ = advance()
                items.append(try parse(precedence: 0))
            }
            let close = try expectSymbol(")", "to close the IN list")
            return .inList(left, items, negated: negated, left.span.union(close.span))
        case "BETWEEN":
            let low = try parse(precedence: 5)
            _ = try expectKeyword("AND", "in BETWEEN low AND high")
            let high = try parse(precedence: 5)
            return .between(left, low, high, negated: negated, left.span.union(high.span))
        case "LIKE", "ILIKE":
            let pattern = try parse(precedence: 5)
            return .like(left, pattern, caseInsensitive: keyword == "ILIKE", negated: negated, left.span.union(pattern.span))
        default:
            throw error("unexpected \(describe(token))", token.span)
        }
    }
}

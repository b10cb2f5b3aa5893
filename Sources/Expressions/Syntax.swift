public import Columnar

/// Binary operators of the expression language.
public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    case equal = "=", notEqual = "<>", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and = "AND", or = "OR", concat = "||"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }

    var isArithmetic: Bool {
        switch self {
        case .add, .subtract, .multiply, .divide, .modulo: true
        default: false
        }
    }
}

/// The parsed, untyped syntax tree of an expression. Every node carries its source span.
public indirect enum Syntax: Sendable {
    case literal(Value, Span)
    case column(String, Span)
    case parameter(String, Span)
    case negate(Syntax, Span)
    case not(Syntax, Span)
    case binary(BinaryOperator, Syntax, Syntax, Span)
    case isNull(Syntax, negated: Bool, Span)
    case inList(Syntax, [Syntax], negated: Bool, Span)
    case between(Syntax, Syntax, Syntax, negated: Bool, Span)
    case like(Syntax, Syntax, caseInsensitive: Bool, negated: Bool, Span)
    case caseWhen([(condition: Syntax, result: Syntax)], otherwise: Syntax?, Span)
    case cast(Syntax, DataType, Span)
    /// A function call; `distinct` and `star` only make sense for aggregates (`count(distinct x)`, `count(*)`).
    case call(String, [Syntax], distinct: Bool, star: Bool, Span)

    public var span: Span {
        switch self {
        case let .literal(_, s), let .column(_, s), let .parameter(_, s), let .negate(_, s), let .not(_, s),
             let .binary(_, _, _, s), let .isNull(_, _, s), let .inList(_, _, _, s), let .between(_, _, _, _, s),
             let .like(_, _, _, _, s), let .caseWhen(_, _, s), let .cast(_, _, s), let .call(_, _, _, _, s):
            s
        }
    }

    /// Every column name the expression reads.
    public var referencedColumns: Set<String> {
        var names = Set<String>()
        collectColumns(into: &names)
        return names
    }

    private func collectColumns(into names: inout Set<String>) {
        switch self {
        case .literal, .parameter: break
        case let .column(name, _): names.insert(name)
        case let .negate(e, _), let .not(e, _), let .isNull(e, _, _), let .cast(e, _, _): e.collectColumns(into: &names)
        case let .binary(_, l, r, _), let .like(l, r, _, _, _):
            l.collectColumns(into: &names)
            r.collectColumns(into: &names)
        case let .inList(e, list, _, _):
            e.collectColumns(into: &names)
            for item in list { item.collectColumns(into: &names) }
        case let .between(e, lo, hi, _, _):
            for item in [e, lo, hi] { item.collectColumns(into: &names) }
        case let .caseWhen(branches, otherwise, _):
            for branch in branches {
                branch.condition.collectColumns(into: &names)
                branch.result.collectColumns(into: &names)
            }
            otherwise?.collectColumns(into: &names)
        case let .call(_, args, _, _, _):
            for arg in args { arg.collectColumns(into: &names) }
        }
    }
}

/// A parsed expression with its source text; bind it to a schema to evaluate it.
public struct Expression: Sendable, CustomStringConvertible {
    public let source: String
    public let syntax: Syntax

    /// Parses `source`; errors carry the character span of the problem.
    public init(_ source: String) throws(ExpressionError) {
        self.source = source
        var parser = Parser(source)
        syntax = try parser.parseExpression()
    }

    /// Wraps a sub-tree of a parsed expression (e.g. an aggregate's argument); spans keep pointing into `source`.
    public init(syntax: Syntax, source: String) {
        self.source = source
        self.syntax = syntax
    }

    public var referencedColumns: Set<String> { syntax.referencedColumns }
    public var description: String { source }
}

public import Columnar

/// What an expression may read besides columns: run parameters and the run's clock.
public struct ExpressionEnvironment: Sendable {
    public var parameters: [String: Value]
    /// `now()` for the whole run, in UTC microseconds: one value per run, as in a PostgreSQL transaction.
    public var now: Int64

    public init(parameters: [String: Value] = [:], now: Int64 = 0) {
        self.parameters = parameters
        self.now = now
    }
}

extension Expression {
    /// Type-checks against `schema`, resolving columns, parameters and functions.
    /// Constant sub-expressions are folded once here.
    public func bind(to schema: Schema, environment: ExpressionEnvironment = .init()) throws(ExpressionError) -> BoundExpression {
        let binder = Binder(schema: schema, environment: environment, source: source)
        let root = try binder.bind(syntax)
        return BoundExpression(source: source, type: root.type, root: root)
    }

    /// Binds and requires a Boolean result (for `where` conditions and rules).
    public func bindPredicate(to schema: Schema, environment: ExpressionEnvironment = .init()) throws(ExpressionError) -> BoundExpression {
        let bound = try bind(to: schema, environment: environment)
        guard bound.type == .bool || bound.constantValue?.isNull == true else {
            throw ExpressionError(code: "type_mismatch", message: "a condition must be bool, but this expression is \(bound.type)", span: syntax.span, source: source)
        }
        return bound
    }
}

struct Binder {
    let schema: Schema
    let environment: ExpressionEnvironment
    let source: String

    func error(_ code: String, _ message: String, _ span: Span) -> ExpressionError {
        ExpressionError(code: code, message: message, span: span, source: source)
    }

    func bind(_ syntax: Syntax) throws(ExpressionError) -> BoundNode {
        let node = try bindUnfolded(syntax)
        return fold(node, span: syntax.span)
    }

    /// Evaluates column-free nodes once; failures stay unfolded so they surface per row with spans.
    private func fold(_ node: BoundNode, span: Span) -> BoundNode {
        switch node {
        case .column, .constant: return node
        default:
            guard node.isColumnFree else { return node }
            let state = EvaluationState(source: source, count: 1)
            let column = Evaluator(batch: RecordBatch(emptyRows: 1), state: state).evaluate(node)
            guard state.rowErrors.isEmpty else { return node }
            return .constant(column.value(at: 0), node.type)
        }
    }

    private func bindUnfolded(_ syntax: Syntax) throws(ExpressionError) -> BoundNode {
        switch syntax {
        case let .literal(value, _):
            return .constant(value, value.dataType ?? .string)
        case let .column(name, span):
            guard let index = schema.index(of: name) else {
                var message = "unknown column '\(name)'"
                if let match = schema.caseInsensitiveMatch(name) { message += "; did you mean \"\(match)\"? (names are case-sensitive)" }
                message += "; available columns: " + (schema.names.isEmpty ? "(none)" : schema.names.joined(separator: ", "))
                throw error("unknown_column", message, span)
            }
            return .column(index, schema.fields[index].type)
        case let .parameter(name, span):
            guard let value = environment.parameters[name] else {
                let known = environment.parameters.keys.sorted()
                throw error("unknown_parameter", "unknown parameter ${\(name)}; declared parameters: " + (known.isEmpty ? "(none)" : known.joined(separator: ", ")), span)
            }
            return .constant(value, value.dataType ?? .string)
        case let .negate(inner, span):
            let operand = try bind(inner)
            guard operand.type.isNumeric || operand.isNullConstant else { throw error("type_mismatch", "cannot negate a \(operand.type) value", span) }
            let type: DataType = operand.type == .int64 ? .int64 : .float64
            return .arithmetic(.subtract, .constant(type == .int64 ? .int(0) : .float(0), type), try coerce(operand, to: type, span), type, span)
        case let .not(inner, span):
            return .not(try requireBool(try bind(inner), span, context: "NOT"))
        case let .binary(op, l, r, span):
            return try bindBinary(op, l, r, span)
        case let .isNull(inner, negated, _):
            return .isNull(try bind(inner), negated: negated)
        case let .inList(inner, items, negated, span):
            let subject = try bind(inner)
            var bound: [BoundNode] = []
            for item in items { bound.append(try bind(item)) }
            let common = try commonType([subject] + bound, span, context: "IN list")
            var coerced: [BoundNode] = []
            for item in bound { coerced.append(try coerce(item, to: common, span)) }
            return .inList(try coerce(subject, to: common, span), coerced, negated: negated)
        case let .between(inner, lo, hi, negated, span):
            let subject = try bind(inner), low = try bind(lo), high = try bind(hi)
            let common = try commonType([subject, low, high], span, context: "BETWEEN")
            let s = try coerce(subject, to: common, span)
            let range: BoundNode = .and(.compare(.greaterOrEqual, s, try coerce(low, to: common, span)),
                                        .compare(.lessOrEqual, s, try coerce(high, to: common, span)))
            return negated ? .not(range) : range
        case let .like(inner, pattern, caseInsensitive, negated, span):
            let subject = try bind(inner), p = try bind(pattern)
            for (node, part) in [(subject, inner), (p, pattern)] where !(node.type == .string || node.isNullConstant) {
                throw error("type_mismatch", "LIKE needs string operands, but this is \(node.type)", part.span)
            }
            return .like(subject, p, caseInsensitive: caseInsensitive, negated: negated, span)
        case let .caseWhen(branches, otherwise, span):
            var conditions: [BoundNode] = []
            var results: [BoundNode] = []
            for branch in branches {
                conditions.append(try requireBool(try bind(branch.condition), branch.condition.span, context: "CASE WHEN"))
                results.append(try bind(branch.result))
            }
            let elseNode = try otherwise.map { (e: Syntax) throws(ExpressionError) -> BoundNode in try bind(e) } ?? .constant(.null, .string)
            let type = try commonType(results + [elseNode], span, context: "CASE results")
            var pairs: [(BoundNode, BoundNode)] = []
            for (c, r) in zip(conditions, results) { pairs.append((c, try coerce(r, to: type, span))) }
            return .caseWhen(pairs, try coerce(elseNode, to: type, span), type)
        case let .cast(inner, type, span):
            let operand = try bind(inner)
            guard operand.isNullConstant || Casts.canCast(operand.type, to: type) else {
                throw error("invalid_cast", "cannot cast \(operand.type) to \(type)", span)
            }
            if operand.type == type { return operand }
            return .cast(operand, type, span)
        case let .call(name, args, distinct, star, span):
            if FunctionDefinition.aggregateNames.contains(name) {
                throw error("invalid_argument", "aggregate function \(name)() is not allowed here; use the aggregate node", span)
            }
            if distinct || star { throw error("syntax_error", "DISTINCT and * are only allowed in aggregate functions", span) }
            var bound: [BoundNode] = []
            for arg in args { bound.append(try bind(arg)) }
            return try bindFunction(name, bound, args, span)
        }
    }

    func requireBool(_ node: BoundNode, _ span: Span, context: String) throws(ExpressionError) -> BoundNode {
        if node.isNullConstant { return .constant(.null, .bool) }
        guard node.type == .bool else { throw error("type_mismatch", "\(context) needs a bool operand, but this is \(node.type)", span) }
        return node
    }

    private func bindBinary(_ op: BinaryOperator, _ l: Syntax, _ r: Syntax, _ span: Span) throws(ExpressionError) -> BoundNode {
        let left = try bind(l), right = try bind(r)
        switch op {
        case .and: return .and(try requireBool(left, l.span, context: "AND"), try requireBool(right, r.span, context: "AND"))
        case .or: return .or(try requireBool(left, l.span, context: "OR"), try requireBool(right, r.span, context: "OR"))
        case .concat:
            return .function(FunctionDefinition.concatOperator, [try coerce(left, to: .string, span), try coerce(right, to: .string, span)], .string, strict: true, span)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            let common = try commonType([left, right], span, context: "comparison '\(op.rawValue)'")
            return .compare(op, try coerce(left, to: common, span), try coerce(right, to: common, span))
        case .add, .subtract, .multiply, .divide, .modulo:
            return try bindArithmetic(op, left, right, l, r, span)
        }
    }

    private func bindArithmetic(_ op: BinaryOperator, _ left: BoundNode, _ right: BoundNode, _ l: Syntax, _ r: Syntax, _ span: Span) throws(ExpressionError) -> BoundNode {
        let left = Self.literalAsDecimal(left, beside: right.type), right = Self.literalAsDecimal(right, beside: left.type)
        let lt = left.isNullConstant ? right.type : left.type
        let rt = right.isNullConstant ? left.type : right.type
        // Date arithmetic as in PostgreSQL: date ± integer days, date - date = integer days.
        if lt == .date, rt == .int64, op == .add || op == .subtract {
            return .arithmetic(op, try coerce(left, to: .date, span), try coerce(right, to: .int64, span), .date, span)
        }
        if lt == .int64, rt == .date, op == .add {
            return .arithmetic(op, try coerce(right, to: .date, span), try coerce(left, to: .int64, span), .date, span)
        }
        if lt == .date, rt == .date, op == .subtract {
            return .arithmetic(op, left, right, .int64, span)
        }
        for (node, part) in [(left, l), (right, r)] where !(node.type.isNumeric || node.isNullConstant) {
            throw error("type_mismatch", "operator '\(op.rawValue)' needs numbers, but this is \(node.type)", part.span)
        }
        if let decimal = Self.decimalResult(op, left, right, lt, rt) {
            // Exact: each side keeps its own scale and storage (an integer is a decimal of scale 0); the evaluator
            // aligns them in 128 bits.
            let l = left.isNullConstant ? try coerce(left, to: .decimal(precision: ExactDecimal.narrowPrecision, scale: 0), span) : left
            let r = right.isNullConstant ? try coerce(right, to: .decimal(precision: ExactDecimal.narrowPrecision, scale: 0), span) : right
            return .arithmetic(op, l, r, decimal, span)
        }
        let type: DataType = (lt == .int64 && rt == .int64) ? .int64 : .float64
        return .arithmetic(op, try coerce(left, to: type, span), try coerce(right, to: type, span), type, span)
    }

    /// The exact result type of decimal arithmetic (at least one decimal side, no float), with PostgreSQL's
    /// result scales for + - * % (the larger scale; the sum of scales for *) and for / the larger of the scales and 6,
    /// and room for every integer digit the operands can produce (a sum one more than the larger side, a product
    /// both sides' digits; a literal counts its own digits), at most 38 digits. Nil (float64 arithmetic) when a side
    /// is a float or the scale would pass 38 digits.
    static func decimalResult(_ op: BinaryOperator, _ left: BoundNode, _ right: BoundNode, _ lt: DataType, _ rt: DataType) -> DataType? {
        let isDecimal = { (t: DataType) -> Bool in if case .decimal = t { true } else { false } }
        guard isDecimal(lt) || isDecimal(rt), let s1 = lt.decimalScale, let s2 = rt.decimalScale else { return nil }
        let d1 = integerDigits(left, lt), d2 = integerDigits(right, rt)
        let (digits, scale) = switch op {
        case .add, .subtract: (max(d1, d2) + 1, max(s1, s2))
        case .multiply: (d1 + d2, s1 + s2)
        case .divide: (d1 + s2, max(s1, s2, 6))
        default: (min(d1, d2), max(s1, s2))   // a remainder is smaller than both sides
        }
        return scale <= ExactDecimal.maxPrecision ? ExactDecimal.type(integerDigits: digits, scale: scale) : nil
    }

    /// The integer digits a node's values can have: a literal's own, else its type's (19 for int64).
    static func integerDigits(_ node: BoundNode, _ type: DataType) -> Int {
        switch node.constantValue {
        case let .int(v)?: String(v.magnitude).count
        case let .decimal(v, scale)?: max(ExactDecimal.precision(of: v, scale: scale) - scale, 1)
        default: type.decimalIntegerDigits ?? 19
        }
    }

    /// A number literal with a fraction (`1.19`) next to a decimal is a decimal of its written digits, as
    /// PostgreSQL's numeric literals are: `amount * 1.19` stays exact. Anything else is left as it is.
    static func literalAsDecimal(_ node: BoundNode, beside other: DataType) -> BoundNode {
        guard case .decimal = other, case let .float(d)? = node.constantValue, let (v, scale) = DecimalText.shortest(d) else { return node }
        let type = DataType.decimal(precision: ExactDecimal.precision(of: v, scale: scale), scale: scale)
        return .constant(.decimal(v, scale: scale), type)
    }

    /// The type both sides of a comparison (or all branches of a CASE) convert to.
    func commonType(_ nodes: [BoundNode], _ span: Span, context: String) throws(ExpressionError) -> DataType {
        let typed = nodes.filter { !$0.isNullConstant }
        guard var result = typed.first(where: { $0.constantValue == nil })?.type ?? typed.first?.type else { return .string }
        // Decimals meet at the most integer digits and the largest scale of any side (a literal counts its own digits).
        var digits = result.decimalIntegerDigits ?? 0
        for node in typed {
            let t = node.type
            if t == result { continue }
            switch (result, t) {
            case _ where result.isNumeric && t.isNumeric:
                // Integers and decimals meet exactly at the larger scale; a float makes it float.
                if let a = result.decimalScale, let b = t.decimalScale {
                    digits = max(digits, Self.integerDigits(node, t))
                    result = ExactDecimal.type(integerDigits: digits, scale: max(a, b))
                } else {
                    result = .float64
                }
            case (.date, .timestamp), (.timestamp, .date):
                result = .timestamp
            case (.json, .string), (.string, .json):
                result = .string
            case (_, .string) where node.constantValue != nil:
                continue // an untyped literal adapts to the other side, as in PostgreSQL
            case (.string, _) where typed.first(where: { $0.type == .string })?.constantValue != nil && nodes.allSatisfy({ $0.type != .string || $0.constantValue != nil }):
                result = t
            default:
                throw error("type_mismatch", "\(context) mixes \(result) and \(t); use CAST(x AS type) to convert", span)
            }
        }
        return result
    }

    /// Converts a node to `type`: literals are converted now (a bad literal is an error with its span),
    /// columns through an implicit widening cast.
    func coerce(_ node: BoundNode, to type: DataType, _ span: Span) throws(ExpressionError) -> BoundNode {
        if node.type == type { return node }
        if let value = node.constantValue {
            do { return .constant(try Casts.cast(value, to: type), type) } catch {
                throw self.error("type_mismatch", "cannot use \(value.description.debugDescription) as \(type): \(error.message)", span)
            }
        }
        switch (node.type, type) {
        case (.int64, .float64), (.decimal, .float64), (.date, .timestamp), (.json, .string), (_, .string):
            return .cast(node, type, span)
        case (.int64, .decimal):
            return .cast(node, type, span)
        case let (.decimal(_, from), .decimal(_, to)) where to >= from:
            return .cast(node, type, span)
        default:
            throw error("type_mismatch", "expected \(type) but found \(node.type)", span)
        }
    }

    private func bindFunction(_ name: String, _ args: [BoundNode], _ syntax: [Syntax], _ span: Span) throws(ExpressionError) -> BoundNode {
        guard let definition = FunctionDefinition.all[name] else {
            let known = FunctionDefinition.all.keys.sorted().joined(separator: ", ")
            throw error("unknown_function", "unknown function \(name)(); available: \(known)", span)
        }
        guard definition.arity.contains(args.count) else {
            let expected = definition.arity.lowerBound == definition.arity.upperBound ? "\(definition.arity.lowerBound)" : "\(definition.arity.lowerBound) to \(definition.arity.upperBound == Int.max ? "any number of" : String(definition.arity.upperBound))"
            throw error("invalid_argument", "\(name)() takes \(expected) argument(s) but got \(args.count)", span)
        }
        let resolution: FunctionDefinition.Resolution
        do { resolution = try definition.resolve(args, environment) } catch {
            let argSpan = error.argument.flatMap { $0 < syntax.count ? syntax[$0].span : nil } ?? span
            throw self.error(error.code, "\(name)(): \(error.message)", argSpan)
        }
        var coerced: [BoundNode] = []
        for (i, arg) in args.enumerated() {
            let target = i < resolution.argumentTypes.count ? resolution.argumentTypes[i] : arg.type
            coerced.append(try coerce(arg, to: target, i < syntax.count ? syntax[i].span : span))
        }
        return .function(resolution.implementation, coerced, resolution.returnType, strict: definition.strict, span)
    }
}

extension BoundNode {
    /// True when no column is read, so the node can be evaluated once at bind time.
    var isColumnFree: Bool {
        switch self {
        case .column: false
        case .constant: true
        case let .arithmetic(_, l, r, _, _), let .compare(_, l, r), let .and(l, r), let .or(l, r), let .like(l, r, _, _, _):
            l.isColumnFree && r.isColumnFree
        case let .not(e), let .isNull(e, _), let .cast(e, _, _): e.isColumnFree
        case let .inList(e, items, _): e.isColumnFree && items.allSatisfy(\.isColumnFree)
        case let .caseWhen(pairs, e, _): e.isColumnFree && pairs.allSatisfy { $0.0.isColumnFree && $0.1.isColumnFree }
        case let .function(_, args, _, _, _): args.allSatisfy(\.isColumnFree)
        }
    }
}

public import Columnar

/// A type-checked node: column positions resolved, operands coerced, functions chosen.
indirect enum BoundNode: Sendable {
    case column(Int, DataType)
    case constant(Value, DataType)
    case arithmetic(BinaryOperator, BoundNode, BoundNode, DataType, Span)
    case compare(BinaryOperator, BoundNode, BoundNode)
    case and(BoundNode, BoundNode)
    case or(BoundNode, BoundNode)
    case not(BoundNode)
    case isNull(BoundNode, negated: Bool)
    case inList(BoundNode, [BoundNode], negated: Bool)
    case like(BoundNode, BoundNode, caseInsensitive: Bool, negated: Bool, Span)
    case caseWhen([(BoundNode, BoundNode)], BoundNode, DataType)
    case cast(BoundNode, DataType, Span)
    case function(FunctionDefinition.Implementation, [BoundNode], DataType, strict: Bool, Span)

    var type: DataType {
        switch self {
        case let .column(_, t), let .constant(_, t), let .arithmetic(_, _, _, t, _), let .caseWhen(_, _, t),
             let .cast(_, t, _), let .function(_, _, t, _, _):
            t
        case .compare, .and, .or, .not, .isNull, .inList, .like: .bool
        }
    }

    var constantValue: Value? {
        if case let .constant(v, _) = self { return v }
        return nil
    }

    var isNullConstant: Bool { constantValue?.isNull ?? false }
}

/// The result of evaluating an expression over a batch: one value per row, plus the rows that failed.
///
/// A failed row (division by zero, invalid cast, …) holds NULL in `column` and its error in `rowErrors`;
/// nodes send such rows to their reject output.
public struct Evaluation: Sendable {
    public let column: Column
    public let rowErrors: [Int: ExpressionError]
}

/// An expression type-checked against a schema, evaluated vectorized over whole batches.
public struct BoundExpression: Sendable {
    public let source: String
    public let type: DataType
    let root: BoundNode

    /// Evaluates over every row of `batch`, whose schema must be the one bound against.
    public func evaluate(_ batch: RecordBatch) -> Evaluation {
        let state = EvaluationState(source: source, count: batch.count)
        let column = Evaluator(batch: batch, state: state).evaluate(root)
        return Evaluation(column: column, rowErrors: state.rowErrors)
    }

    /// The constant this expression folded to, if it does not depend on any column.
    public var constantValue: Value? { root.constantValue }
}

/// Mutable bookkeeping of one evaluation call (not shared across tasks).
final class EvaluationState {
    let source: String
    let count: Int
    var rowErrors: [Int: ExpressionError] = [:]
    /// Rows whose failures do not count while a CASE branch is evaluated for the rows that do not take it
    /// (`CASE WHEN amount = 0 THEN NULL ELSE 100 / amount END` never fails).
    var ignored: [Bool]?

    init(source: String, count: Int) {
        self.source = source
        self.count = count
    }

    func fail(row: Int, _ failure: RowFailure, span: Span?) {
        if let ignored, ignored[row] { return }
        if rowErrors[row] == nil {
            rowErrors[row] = ExpressionError(code: failure.code, message: failure.message, span: span, source: source)
        }
    }
}

/// A failure computing one row's value.
struct RowFailure: Error {
    let code: String
    let message: String

    static let divisionByZero = RowFailure(code: "division_by_zero", message: "division by zero")
    static func outOfRange(_ type: String) -> RowFailure { RowFailure(code: "out_of_range", message: "\(type) out of range") }
}

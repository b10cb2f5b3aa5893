import Columnar
import Foundation

/// A scalar function of the expression language: arity, typing rule and per-row implementation.
///
/// Strict functions return NULL when any argument is NULL without calling the implementation
/// (as PostgreSQL's STRICT functions); `coalesce`, `nullif` and `concat` are not strict.
struct FunctionDefinition: Sendable {
    typealias Implementation = @Sendable ([Value]) throws(RowFailure) -> Value

    struct Resolution {
        let argumentTypes: [DataType]
        let returnType: DataType
        let implementation: Implementation
    }

    struct ResolveError: Error {
        let code: String
        let message: String
        let argument: Int?
    }

    let name: String
    let arity: ClosedRange<Int>
    let strict: Bool
    let summary: String
    let resolve: @Sendable ([BoundNode], ExpressionEnvironment) throws(ResolveError) -> Resolution

    static let aggregateNames: Set<String> = ["count", "sum", "avg", "min", "max"]

    static let concatOperator: Implementation = { (args: [Value]) throws(RowFailure) -> Value in
        .string(text(args[0]) + text(args[1]))
    }

    /// Every scalar function by name.
    static let all: [String: FunctionDefinition] = Dictionary(uniqueKeysWithValues: (StringFunctions.all + NumericFunctions.all + TemporalFunctions.all + JSONFunctions.all).map { ($0.name, $0) })

    // MARK: - Helpers shared by the function families

    static func requireType(_ args: [BoundNode], _ index: Int, _ accepted: (DataType) -> Bool, _ what: String) throws(ResolveError) {
        let arg = args[index]
        guard arg.isNullConstant || accepted(arg.type) else {
            throw ResolveError(code: "type_mismatch", message: "argument \(index + 1) must be \(what), but is \(arg.type)", argument: index)
        }
    }

    static func text(_ v: Value) -> String {
        switch v {
        case let .string(s), let .json(s): s
        case .null: ""
        default: v.description
        }
    }

    static func int(_ v: Value) -> Int64 {
        switch v {
        case let .int(i): i
        case let .float(d): Int64(d)
        default: 0
        }
    }

    static func double(_ v: Value) -> Double { v.doubleValue ?? 0 }

    /// A constant string argument (a field name, a pattern), lower-cased.
    static func constantText(_ args: [BoundNode], _ index: Int, _ what: String) throws(ResolveError) -> String {
        guard index < args.count, case let .string(s)? = args[index].constantValue else {
            throw ResolveError(code: "invalid_argument", message: "argument \(index + 1) must be a constant string naming \(what)", argument: index)
        }
        return s.lowercased()
    }

    /// The type all arguments share for coalesce-like functions: numbers widen to float64, literals adapt.
    static func sharedType(_ args: [BoundNode]) throws(ResolveError) -> DataType {
        let typed = args.filter { !$0.isNullConstant }
        guard var result = typed.first(where: { $0.constantValue == nil })?.type ?? typed.first?.type else { return .string }
        for (i, arg) in args.enumerated() where !arg.isNullConstant && arg.type != result {
            if arg.type.isNumeric, result.isNumeric { result = .float64 } else if arg.constantValue != nil, arg.type == .string { continue } else {
                throw ResolveError(code: "type_mismatch", message: "arguments mix \(result) and \(arg.type)", argument: i)
            }
        }
        return result
    }
}

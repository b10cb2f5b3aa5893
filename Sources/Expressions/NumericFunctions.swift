import Columnar
import Foundation

/// abs, round, floor, ceil, coalesce, nullif.
enum NumericFunctions {
    typealias F = FunctionDefinition

    static let all: [FunctionDefinition] = [
        F(name: "abs", arity: 1...1, strict: true, summary: "Absolute value.") { args, _ throws(F.ResolveError) in
            try F.requireType(args, 0, \.isNumeric, "a number")
            if args[0].type == .int64 {
                return .init(argumentTypes: [.int64], returnType: .int64) { (v: [Value]) throws(RowFailure) -> Value in
                    let i = F.int(v[0])
                    guard i != .min else { throw .outOfRange("int64") }
                    return .int(abs(i))
                }
            }
            return .init(argumentTypes: [.float64], returnType: .float64) { (v: [Value]) throws(RowFailure) -> Value in .float(abs(F.double(v[0]))) }
        },
        F(name: "round", arity: 1...2, strict: true, summary: "round(x[, digits]): rounds half away from zero.") { args, _ throws(F.ResolveError) in
            try F.requireType(args, 0, \.isNumeric, "a number")
            if args.count == 2 { try F.requireType(args, 1, { $0 == .int64 }, "an integer") }
            if args[0].type == .int64, args.count == 1 {
                return .init(argumentTypes: [.int64], returnType: .int64) { (v: [Value]) throws(RowFailure) -> Value in v[0] }
            }
            return .init(argumentTypes: [.float64, .int64], returnType: .float64) { (v: [Value]) throws(RowFailure) -> Value in
                let digits = v.count == 2 ? F.int(v[1]) : 0
                let factor = pow(10.0, Double(digits))
                return .float((F.double(v[0]) * factor).rounded(.toNearestOrAwayFromZero) / factor)
            }
        },
        rounding("floor", "Largest integer not greater than x.", .down),
        rounding("ceil", "Smallest integer not less than x.", .up),
        F(name: "coalesce", arity: 1...Int.max, strict: false, summary: "The first argument that is not NULL.") { args, _ throws(F.ResolveError) in
            let type = try F.sharedType(args)
            return .init(argumentTypes: args.map { _ in type }, returnType: type) { (v: [Value]) throws(RowFailure) -> Value in
                v.first { !$0.isNull } ?? .null
            }
        },
        F(name: "nullif", arity: 2...2, strict: false, summary: "nullif(a, b): NULL when a = b, else a.") { args, _ throws(F.ResolveError) in
            let type = try F.sharedType(args)
            return .init(argumentTypes: [type, type], returnType: type) { (v: [Value]) throws(RowFailure) -> Value in
                v[0] == v[1] ? .null : v[0]
            }
        },
    ]

    static func rounding(_ name: String, _ summary: String, _ rule: FloatingPointRoundingRule) -> FunctionDefinition {
        F(name: name, arity: 1...1, strict: true, summary: summary) { args, _ throws(F.ResolveError) in
            try F.requireType(args, 0, \.isNumeric, "a number")
            if args[0].type == .int64 {
                return .init(argumentTypes: [.int64], returnType: .int64) { (v: [Value]) throws(RowFailure) -> Value in v[0] }
            }
            return .init(argumentTypes: [.float64], returnType: .float64) { (v: [Value]) throws(RowFailure) -> Value in .float(F.double(v[0]).rounded(rule)) }
        }
    }
}

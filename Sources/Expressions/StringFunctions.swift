import Columnar
import Foundation

/// lower, upper, trim, length, substr, replace, concat, starts_with, regexp_matches.
enum StringFunctions {
    typealias F = FunctionDefinition

    static let all: [FunctionDefinition] = [
        unary("lower", "Lower-cases a string.") { $0.lowercased() },
        unary("upper", "Upper-cases a string.") { $0.uppercased() },
        unary("trim", "Removes leading and trailing white space.") { $0.trimmingCharacters(in: .whitespacesAndNewlines) },
        F(name: "length", arity: 1...1, strict: true, summary: "Number of characters in a string.") { args, _ throws(F.ResolveError) in
            try F.requireType(args, 0, { $0 == .string || $0 == .bytes || $0 == .json }, "a string")
            return .init(argumentTypes: [args[0].type], returnType: .int64) { (v: [Value]) throws(RowFailure) -> Value in
                if case let .bytes(b) = v[0] { return .int(Int64(b.count)) }
                return .int(Int64(F.text(v[0]).count))
            }
        },
        F(name: "substr", arity: 2...3, strict: true, summary: "substr(s, start[, length]): characters from a 1-based position.") { args, _ throws(F.ResolveError) in
            try F.requireType(args, 0, { $0 == .string }, "a string")
            try F.requireType(args, 1, { $0 == .int64 }, "an integer")
            if args.count == 3 { try F.requireType(args, 2, { $0 == .int64 }, "an integer") }
            return .init(argumentTypes: [.string, .int64, .int64], returnType: .string) { (v: [Value]) throws(RowFailure) -> Value in
                let chars = Array(F.text(v[0]))
                let start = F.int(v[1])
                var end = Int64(chars.count) + 1
                if v.count == 3 {
                    let length = F.int(v[2])
                    guard length >= 0 else { throw RowFailure(code: "invalid_argument", message: "negative substring length not allowed") }
                    end = start &+ length
                }
                let lo = max(1, start), hi = min(Int64(chars.count) + 1, end)
                guard lo < hi else { return .string("") }
                return .string(String(chars[Int(lo - 1)..<Int(hi - 1)]))
            }
        },
        F(name: "replace", arity: 3...3, strict: true, summary: "replace(s, from, to): replaces every occurrence.") { args, _ throws(F.ResolveError) in
            for i in 0..<3 { try F.requireType(args, i, { $0 == .string }, "a string") }
            return .init(argumentTypes: [.string, .string, .string], returnType: .string) { (v: [Value]) throws(RowFailure) -> Value in
                let from = F.text(v[1])
                guard !from.isEmpty else { return v[0] }
                return .string(F.text(v[0]).replacingOccurrences(of: from, with: F.text(v[2])))
            }
        },
        F(name: "concat", arity: 1...Int.max, strict: false, summary: "Joins the text of its arguments; NULLs are skipped.") { args, _ throws(F.ResolveError) in
            .init(argumentTypes: args.map { $0.isNullConstant ? .string : $0.type }, returnType: .string) { (v: [Value]) throws(RowFailure) -> Value in
                .string(v.map(F.text).joined())
            }
        },
        F(name: "starts_with", arity: 2...2, strict: true, summary: "starts_with(s, prefix).") { args, _ throws(F.ResolveError) in
            for i in 0..<2 { try F.requireType(args, i, { $0 == .string }, "a string") }
            return .init(argumentTypes: [.string, .string], returnType: .bool) { (v: [Value]) throws(RowFailure) -> Value in
                .bool(F.text(v[0]).utf8.starts(with: F.text(v[1]).utf8))
            }
        },
        F(name: "regexp_matches", arity: 2...3, strict: true, summary: "regexp_matches(s, pattern[, flags]): whether a POSIX-style regular expression matches; flag 'i' ignores case.") { args, _ throws(F.ResolveError) in
            for i in 0..<args.count { try F.requireType(args, i, { $0 == .string }, "a string") }
            var options: NSRegularExpression.Options = []
            if args.count == 3 { if try F.constantText(args, 2, "flags").contains("i") { options.insert(.caseInsensitive) } }
            var compiled: NSRegularExpression?
            if case let .string(p)? = args[1].constantValue {
                do { compiled = try NSRegularExpression(pattern: p, options: options) } catch {
                    throw F.ResolveError(code: "invalid_argument", message: "invalid regular expression '\(p)'", argument: 1)
                }
            }
            let fixed = SendableRegex(compiled)
            let flags = options
            return .init(argumentTypes: args.map { _ in .string }, returnType: .bool) { (v: [Value]) throws(RowFailure) -> Value in
                let text = F.text(v[0])
                let regex: NSRegularExpression
                if let r = fixed.regex { regex = r } else {
                    do { regex = try NSRegularExpression(pattern: F.text(v[1]), options: flags) } catch {
                        throw RowFailure(code: "invalid_argument", message: "invalid regular expression '\(F.text(v[1]))'")
                    }
                }
                return .bool(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil)
            }
        },
    ]

    static func unary(_ name: String, _ summary: String, _ body: @escaping @Sendable (String) -> String) -> FunctionDefinition {
        F(name: name, arity: 1...1, strict: true, summary: summary) { args, _ throws(F.ResolveError) in
            try F.requireType(args, 0, { $0 == .string }, "a string")
            return .init(argumentTypes: [.string], returnType: .string) { (v: [Value]) throws(RowFailure) -> Value in .string(body(F.text(v[0]))) }
        }
    }
}

/// NSRegularExpression is immutable after creation and documented as thread-safe for matching.
struct SendableRegex: @unchecked Sendable {
    let regex: NSRegularExpression?
    init(_ regex: NSRegularExpression?) { self.regex = regex }
}

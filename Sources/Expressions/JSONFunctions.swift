import Columnar
import Foundation

/// json_get: reads a value out of a JSON document by a path of keys and array indexes.
enum JSONFunctions {
    typealias F = FunctionDefinition

    static let all: [FunctionDefinition] = [
        F(name: "json_get", arity: 2...Int.max, strict: true, summary: "json_get(doc, key[, key…]): the value at a path as text (like PostgreSQL's ->>); integers index arrays; NULL when absent.") { args, _ throws(F.ResolveError) in
            try F.requireType(args, 0, { $0 == .json || $0 == .string }, "json or a string")
            for i in 1..<args.count { try F.requireType(args, i, { $0 == .string || $0 == .int64 }, "a key or an index") }
            return .init(argumentTypes: args.map { $0.isNullConstant ? .string : $0.type }, returnType: .string) { (v: [Value]) throws(RowFailure) -> Value in
                guard let data = F.text(v[0]).data(using: .utf8),
                      var current = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
                    throw RowFailure(code: "invalid_json", message: "invalid JSON document")
                }
                for key in v.dropFirst() {
                    switch (key, current) {
                    case let (.string(k), object as [String: Any]):
                        guard let next = object[k] else { return .null }
                        current = next
                    case let (.int(i), array as [Any]):
                        let index = i < 0 ? Int64(array.count) + i : i
                        guard index >= 0, index < array.count else { return .null }
                        current = array[Int(index)]
                    default: return .null
                    }
                }
                return render(current)
            }
        },
    ]

    static func render(_ value: Any) -> Value {
        switch value {
        case is NSNull: return .null
        case let s as String: return .string(s)
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" { return .string(n.boolValue ? "true" : "false") }
            return .string(n.stringValue)
        default:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else { return .null }
            return .string(String(decoding: data, as: UTF8.self))
        }
    }
}

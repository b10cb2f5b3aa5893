import Columnar
import NodeKit

/// One record as columns: nested objects flattened to `parent_child` names down to `depth` levels; deeper
/// objects and all arrays stay whole (as JSON). A record that is not an object is one column, `value`.
struct RecordFlattener: Sendable {
    let depth: Int

    func flatten(_ record: JSONTree) -> [(name: String, value: JSONTree)] {
        guard case let .object(members) = record else { return [("value", record)] }
        var out: [(name: String, value: JSONTree)] = []
        out.reserveCapacity(members.count)
        add(members, prefix: "", level: 0, into: &out)
        return out
    }

    private func add(_ members: [(key: String, value: JSONTree)], prefix: String, level: Int, into out: inout [(name: String, value: JSONTree)]) {
        for member in members {
            let name = prefix.isEmpty ? member.key : prefix + "_" + member.key
            if case let .object(inner) = member.value, level < depth, !inner.isEmpty {
                add(inner, prefix: name, level: level + 1, into: &out)
            } else {
                out.append((name, member.value))
            }
        }
    }
}

/// Infers column types from sample records: columns in order of first appearance; integers are int64,
/// other numbers float64 (an int64 column widens to float64), booleans bool, strings string, objects and
/// arrays json; a column seen with two kinds becomes string (json stays json); a column that was only ever
/// null is string.
struct SchemaInference: Sendable {
    private(set) var order: [String] = []
    private var types: [String: DataType?] = [:]

    mutating func add(_ record: [(name: String, value: JSONTree)]) {
        for (name, value) in record {
            let seen = Self.type(of: value)
            if let known = types[name] {
                types[name] = Self.widen(known, seen)
            } else {
                order.append(name)
                types[name] = seen
            }
        }
    }

    /// The inferred schema, with the declared columns' types taking precedence and declared columns the
    /// sample did not show added at the end. A column that was only ever null and whose name is the parent of
    /// flattened columns (`address: null` beside `address: {city: …}`) is left out: its children are null there.
    func schema(declared: Schema?) -> Schema {
        let parents = order.filter { name in (types[name] ?? nil) == nil && order.contains { $0.hasPrefix(name + "_") } }
        var fields = order.filter { !parents.contains($0) }.map { name in SchemaField(name, declared?.field(named: name)?.type ?? (types[name] ?? nil) ?? .string) }
        for field in declared?.fields ?? [] where types[field.name] == nil { fields.append(field) }
        return Schema(fields)
    }

    static func type(of value: JSONTree) -> DataType? {
        switch value {
        case .null: nil
        case .bool: .bool
        case .int: .int64
        case .double: .float64
        case .string: .string
        case .array, .object: .json
        }
    }

    static func widen(_ a: DataType?, _ b: DataType?) -> DataType? {
        guard let a else { return b }
        guard let b, a != b else { return a }
        if Set([a, b]) == [.int64, .float64] { return .float64 }
        if a == .json || b == .json { return .json }
        return .string
    }
}

/// Builds typed batches from flattened records against a fixed schema. Keys the schema does not have are
/// ignored; a value that does not fit its column's type rejects the record, naming the column.
struct RecordBatchBuilder {
    let schema: Schema
    private var builders: [ColumnBuilder]
    private var filled: [Bool]
    private(set) var count = 0

    init(schema: Schema, capacity: Int = 0) {
        self.schema = schema
        builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: capacity) }
        filled = Array(repeating: false, count: schema.fields.count)
    }

    /// Adds a record, or returns why it does not fit (the column and the problem) without adding anything.
    mutating func append(_ record: [(name: String, value: JSONTree)]) -> (column: String, message: String)? {
        var values = Array(repeating: Value.null, count: schema.fields.count)
        for (name, value) in record {
            guard let index = schema.index(of: name) else { continue }
            switch Self.convert(value, to: schema.fields[index].type) {
            case let .success(converted): values[index] = converted
            case let .failure(problem): return (name, problem.message)
            }
        }
        for (i, value) in values.enumerated() { builders[i].append(value) }
        count += 1
        return nil
    }

    /// The rows added since the last call, as one batch.
    mutating func take() -> RecordBatch {
        let columns = builders.indices.map { i -> Column in
            let column = builders[i].finish()
            builders[i] = ColumnBuilder(type: schema.fields[i].type)
            return column
        }
        let batch = RecordBatch(schema: schema, columns: columns, count: count)
        count = 0
        return batch
    }

    struct Mismatch: Error { let message: String }

    /// A JSON value as a value of `type`: numbers and booleans as such, text parsed for dates, timestamps and
    /// decimals, objects and arrays as JSON text.
    static func convert(_ value: JSONTree, to type: DataType) -> Result<Value, Mismatch> {
        if case .null = value { return .success(.null) }
        switch (type, value) {
        case let (.int64, .int(i)): return .success(.int(i))
        case let (.int64, .double(d)) where d == d.rounded() && abs(d) < 9.2e18: return .success(.int(Int64(d)))
        case let (.int64, .string(s)): return Int64(s).map { .success(.int($0)) } ?? .failure(Mismatch(message: "'\(s.prefix(40))' is not an integer"))
        case let (.float64, .int(i)): return .success(.float(Double(i)))
        case let (.float64, .double(d)): return .success(.float(d))
        case let (.float64, .string(s)): return Double(s).map { .success(.float($0)) } ?? .failure(Mismatch(message: "'\(s.prefix(40))' is not a number"))
        case let (.bool, .bool(b)): return .success(.bool(b))
        case let (.bool, .string(s)) where s == "true" || s == "false": return .success(.bool(s == "true"))
        case let (.decimal(precision, scale), _):
            guard let text = value.scalarText, let unscaled = DecimalText.parse(text, scale: scale) else {
                return .failure(Mismatch(message: "\(value.text.prefix(40)) is not a decimal with \(scale) places"))
            }
            guard ExactDecimal.fitting(unscaled, precision: precision) != nil else {
                return .failure(Mismatch(message: "\(value.text.prefix(40)) has more digits than decimal(\(precision),\(scale)) holds"))
            }
            return .success(.decimal(unscaled, scale: scale))
        case let (.timestamp, .string(s)):
            return CivilTime.parseTimestamp(s).map { .success(.timestamp($0)) } ?? .failure(Mismatch(message: "'\(s.prefix(40))' is not a timestamp"))
        case let (.timestamp, .int(seconds)): return .success(.timestamp(seconds * 1_000_000))
        case let (.date, .string(s)):
            return CivilTime.parseDate(s).map { .success(.date($0)) } ?? .failure(Mismatch(message: "'\(s.prefix(40))' is not a date"))
        case let (.string, .string(s)): return .success(.string(s))
        case (.string, _): return .success(.string(value.scalarText ?? value.text))
        case (.json, _): return .success(.json(value.text))
        default: return .failure(Mismatch(message: "\(value.text.prefix(40)) does not fit a \(type) column"))
        }
    }
}

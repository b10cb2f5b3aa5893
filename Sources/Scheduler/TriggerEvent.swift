import Columnar
import Expressions
import Foundation
public import Store

/// What a trigger saw: named fields (`scheduled_at`, `new_watermark`, a webhook's JSON body, …).
/// Rules read them as columns; parameter templates as `${event.name}` (nested: `${event.order.id}`).
public struct TriggerEvent: Sendable, Equatable {
    public var fields: [String: JSONValue]

    public init(_ fields: [String: JSONValue]) { self.fields = fields }

    public var json: String { JSONValue.object(fields).text }

    /// A store time (Unix milliseconds) as event fields and listings show it: ISO-8601 in UTC, whole seconds.
    public static func isoTime(_ millis: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(millis) / 1000))
    }

    /// The value at a dotted path, or nil when the event has no such field.
    public func value(at path: String) -> JSONValue? {
        var current: JSONValue = .object(fields)
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case let .object(o): guard let next = o[String(part)] else { return nil }; current = next
            case let .array(a): guard let index = Int(part), a.indices.contains(index) else { return nil }; current = a[index]
            default: return nil
            }
        }
        return current
    }

    /// A field's text for a run parameter: strings as they are, other JSON as JSON text, null as empty.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case let .string(s): s
        case let .bool(b): b ? "true" : "false"
        case let .int(i): String(i)
        case let .double(d): String(d)
        case .array, .object: value.text
        }
    }
}

/// Run parameters from a link's templates: `${event.field}` is replaced by the field's text.
public enum ParameterTemplate {
    /// The rendered parameters; a template naming a field the event lacks is an error naming both.
    public static func render(_ templates: [String: String], event: TriggerEvent) throws(TriggerConfigError) -> [String: String] {
        var result: [String: String] = [:]
        for (name, template) in templates {
            var output = "", rest = Substring(template)
            while let start = rest.range(of: "${event.") {
                output += rest[..<start.lowerBound]
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                    throw TriggerConfigError("unclosed '${event.' in parameter '\(name)'", field: "parameters.\(name)")
                }
                let path = String(rest[start.upperBound..<end])
                guard let value = event.value(at: path) else {
                    throw TriggerConfigError("missing_field", "parameter '\(name)' uses event field '\(path)', which this event does not have (it has: \(event.fields.keys.sorted().joined(separator: ", ")))",
                                             field: "parameters.\(name)")
                }
                output += TriggerEvent.text(value)
                rest = rest[rest.index(after: end)...]
            }
            result[name] = output + rest
        }
        return result
    }

    /// Checks templates' syntax at save time (fields are only known when an event arrives).
    public static func check(_ templates: [String: String]) throws(TriggerConfigError) {
        for (name, template) in templates {
            var rest = Substring(template)
            while let start = rest.range(of: "${") {
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                    throw TriggerConfigError("unclosed '${' in parameter '\(name)'", field: "parameters.\(name)")
                }
                let inner = rest[start.upperBound..<end]
                guard inner.hasPrefix("event."), inner.count > 6 else {
                    throw TriggerConfigError("'${\(inner)}' in parameter '\(name)': trigger parameters may use ${event.FIELD}", field: "parameters.\(name)")
                }
                rest = rest[rest.index(after: end)...]
            }
        }
    }
}

/// A rule: a condition in the expression language over the event's fields (`new_rows > 100`,
/// `subject ILIKE '%invoice%' AND has_attachment`). Nested JSON fields are `json` columns.
public struct TriggerRule: Sendable {
    public let source: String
    let expression: Expressions.Expression

    /// Parses the rule (syntax only; fields are checked against each event).
    public init(_ source: String) throws(TriggerConfigError) {
        self.source = source
        do { expression = try Expressions.Expression(source) } catch {
            throw TriggerConfigError("invalid_expression", error.description, field: "rule")
        }
    }

    /// Type-checks against the fields a kind's events always have (catches unknown names and type errors at save time).
    public func check(against sample: TriggerEvent) throws(TriggerConfigError) {
        do { _ = try expression.bindPredicate(to: Self.schema(sample)) } catch {
            throw TriggerConfigError("invalid_expression", error.description, field: "rule")
        }
    }

    /// True when the event passes; an error (unknown field, failed cast) names the problem.
    public func evaluate(_ event: TriggerEvent) throws(TriggerConfigError) -> Bool {
        let schema = Self.schema(event)
        let bound: BoundExpression
        do { bound = try expression.bindPredicate(to: schema) } catch {
            throw TriggerConfigError("invalid_expression", error.description, field: "rule")
        }
        let columns = schema.fields.map { field -> Column in
            var builder = ColumnBuilder(type: field.type, capacity: 1)
            builder.append(Self.value(event.fields[field.name] ?? .null, as: field.type))
            return builder.finish()
        }
        let result = bound.evaluate(RecordBatch(schema: schema, columns: columns, count: 1))
        if let error = result.rowErrors[0] { throw TriggerConfigError("rule_failed", error.description, field: "rule") }
        return result.column.value(at: 0) == .bool(true)
    }

    static func schema(_ event: TriggerEvent) -> Columnar.Schema {
        Columnar.Schema(event.fields.keys.sorted().map { SchemaField($0, type(of: event.fields[$0]!)) })
    }

    static func type(of value: JSONValue) -> DataType {
        switch value {
        case .bool: .bool
        case .int: .int64
        case .double: .float64
        case .string, .null: .string
        case .array, .object: .json
        }
    }

    static func value(_ value: JSONValue, as type: DataType) -> Value {
        switch value {
        case .null: .null
        case let .bool(b): .bool(b)
        case let .int(i): .int(i)
        case let .double(d): .float(d)
        case let .string(s): .string(s)
        case .array, .object: .json(value.text)
        }
    }
}

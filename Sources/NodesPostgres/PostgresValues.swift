import Columnar
import Foundation
import NodeKit
import PostgresNIO

/// Run parameters as PostgreSQL binds and literals.
enum PostgresValues {
    static func bindings(_ values: [Value]) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case let .bool(b): binds.append(b)
            case let .int(i): binds.append(i)
            case let .float(d): binds.append(d)
            case let .decimal(v, scale): binds.append(Double(v) / pow10(scale))
            case let .string(s), let .json(s): binds.append(s)
            case let .bytes(b): binds.append(ByteBuffer(bytes: b))
            case let .date(d): binds.append(Date(timeIntervalSince1970: Double(d) * 86_400))
            case let .timestamp(t): binds.append(Date(timeIntervalSince1970: Double(t) / 1_000_000))
            }
        }
        return binds
    }

    /// A typed SQL literal (used only to describe a query's result columns, never to run it).
    static func literal(_ value: Value) -> String {
        switch value {
        case .null: "NULL"
        case let .bool(b): b ? "TRUE" : "FALSE"
        case let .int(i): "\(i)::bigint"
        case let .float(d): "\(SQLText.literal(formatDouble(d)))::float8"
        case .decimal: "\(SQLText.literal(value.description))::numeric"
        case let .string(s): SQLText.literal(s)
        case let .json(s): "\(SQLText.literal(s))::jsonb"
        case .bytes: "NULL::bytea"
        case .date: "DATE \(SQLText.literal(value.description))"
        case .timestamp: "TIMESTAMPTZ \(SQLText.literal(value.description))"
        }
    }
}

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
            case let .bool(b): try binds.append(b)
            case let .int(i): try binds.append(i)
            case let .float(d): try binds.append(d)
            case let .decimal(v, scale): try binds.append(Double(v) / pow10(scale))
            case let .string(s), let .json(s): try binds.append(s)
            case let .bytes(b): try binds.append(ByteBuffer(bytes: b))
            case let .date(d): try binds.append(Date(timeIntervalSince1970: Double(d) * 86_400))
            case let .timestamp(t): try binds.append(Date(timeIntervalSince1970: Double(t) / 1_000_000))
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

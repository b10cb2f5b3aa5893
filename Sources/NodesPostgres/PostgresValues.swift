import Columnar
import Foundation
import NodeKit

/// Query parameters as SQL literals: full and incremental reads send them inline (COPY binds nothing).
enum PostgresValues {
    /// A typed SQL literal that PostgreSQL reads back as the same value (`standard_conforming_strings` on).
    static func literal(_ value: Value) -> String {
        switch value {
        case .null: "NULL"
        case let .bool(b): b ? "TRUE" : "FALSE"
        case let .int(i): "'\(i)'::bigint" // quoted: -9223372036854775808::bigint would negate an out-of-range bigint
        case let .float(d): "\(SQLText.literal(d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : formatDouble(d)))::float8"
        case .decimal: "\(SQLText.literal(value.description))::numeric"
        case let .string(s): SQLText.literal(s)
        case let .json(s): "\(SQLText.literal(s))::jsonb"
        case let .bytes(b): "'\\x\(b.map { String(format: "%02x", $0) }.joined())'::bytea"
        case let .date(d): "DATE \(SQLText.literal(PostgresTypes.postgresText(date: d)))"
        case let .timestamp(t): "TIMESTAMPTZ \(SQLText.literal(PostgresTypes.postgresText(timestamp: t)))"
        }
    }
}

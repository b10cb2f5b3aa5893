/// The logical type of a column or expression value.
///
/// Storage: `bool` as `[Bool]`; `int64`, `date` (days since 1970-01-01),
/// `timestamp` (UTC microseconds since the epoch) and `decimal` (scaled integer)
/// as `[Int64]`; `float64` as `[Double]`; `string`, `bytes` and `json` as one
/// byte buffer plus offsets.
public enum DataType: Sendable, Hashable, CustomStringConvertible {
    case bool
    case int64
    case float64
    /// Fixed-point number: an integer scaled by 10^scale, stored as an `Int64` up to precision 18 and as an
    /// `Int128` from 19 to 38 digits.
    case decimal(precision: Int, scale: Int)
    case string
    case bytes
    case date
    case timestamp
    case json

    /// The name used in documents, CAST expressions and error messages.
    public var description: String {
        switch self {
        case .bool: "bool"
        case .int64: "int64"
        case .float64: "float64"
        case let .decimal(precision, scale): "decimal(\(precision),\(scale))"
        case .string: "string"
        case .bytes: "bytes"
        case .date: "date"
        case .timestamp: "timestamp"
        case .json: "json"
        }
    }

    /// Every type name a user may write (aliases included), for error messages.
    public static let spellings = ["bool", "int64", "float64", "decimal(p,s)", "string", "bytes", "date", "timestamp", "json"]

    /// Parses a type name as written in schemas and CAST: `int64`, `bigint`, `decimal(12,2)`, `text`, ….
    public init?(name raw: String) {
        let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
        switch name {
        case "bool", "boolean": self = .bool
        case "int", "int64", "bigint", "integer", "int8", "int4", "smallint": self = .int64
        case "float", "float64", "double", "double precision", "real", "float8": self = .float64
        case "string", "text", "varchar", "char": self = .string
        case "bytes", "bytea", "binary": self = .bytes
        case "date": self = .date
        case "timestamp", "timestamptz", "datetime": self = .timestamp
        case "json", "jsonb": self = .json
        case "decimal", "numeric": self = .decimal(precision: 18, scale: 2)
        default:
            guard name.hasPrefix("decimal(") || name.hasPrefix("numeric("), name.hasSuffix(")") else { return nil }
            let inner = name.drop(while: { $0 != "(" }).dropFirst().dropLast()
            let parts = inner.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let p = parts[0], let s = parts[1], (1...ExactDecimal.maxPrecision).contains(p), (0...p).contains(s) else { return nil }
            self = .decimal(precision: p, scale: s)
        }
    }

    /// Whether values of this type are stored in the variable-length byte buffer.
    public var isVariableLength: Bool {
        switch self {
        case .string, .bytes, .json: true
        default: false
        }
    }

    /// Whether this type takes part in arithmetic.
    public var isNumeric: Bool {
        switch self {
        case .int64, .float64, .decimal: true
        default: false
        }
    }

    /// The physical storage this type uses.
    public var storage: StorageKind {
        switch self {
        case .bool: .bool
        case let .decimal(precision, _) where precision > ExactDecimal.narrowPrecision: .int128
        case .int64, .date, .timestamp, .decimal: .int64
        case .float64: .float64
        case .string, .bytes, .json: .bytes
        }
    }
}

/// The physical buffer kind behind a `DataType`.
public enum StorageKind: Sendable, Hashable {
    case bool, int64, int128, float64, bytes
}

import Foundation

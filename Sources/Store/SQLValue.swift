/// A value bound to, or read from, a metadata-store query. The same five kinds exist in SQLite and PostgreSQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    public static func optional(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    public static func optional(_ int: Int64?) -> SQLValue { int.map(SQLValue.int) ?? .null }
}

/// One result row: values by position, with column names for lookup.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ column: String) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    /// The column as text; nil when NULL. Integers are rendered as decimal text.
    public func text(_ column: String) -> String? {
        switch self[column] {
        case let .text(s): s
        case let .int(i): String(i)
        case let .double(d): String(d)
        case let .blob(b): String(decoding: b, as: UTF8.self)
        case .null: nil
        }
    }

    /// The column as an integer; nil when NULL or not a number.
    public func int(_ column: String) -> Int64? {
        switch self[column] {
        case let .int(i): i
        case let .double(d): Int64(d)
        case let .text(s): Int64(s)
        default: nil
        }
    }

    /// The column as bytes; nil when NULL.
    public func blob(_ column: String) -> [UInt8]? {
        switch self[column] {
        case let .blob(b): b
        case let .text(s): Array(s.utf8)
        default: nil
        }
    }

    /// A required text column; an empty string when NULL (for columns the schema declares NOT NULL).
    public func string(_ column: String) -> String { text(column) ?? "" }

    /// The column's text; throws when the row has no such column or it is NULL (a row the schema does not
    /// explain is an error, never an empty string).
    public func required(_ column: String) throws -> String {
        guard let value = text(column) else { throw missing(column) }
        return value
    }

    /// The column as an integer; throws when it is missing, NULL or not a number.
    public func requiredInt(_ column: String) throws -> Int64 {
        guard let value = int(column) else { throw missing(column) }
        return value
    }

    /// The column as one of an enumeration's stored names; an unknown name is an error, never a default.
    public func decode<T: RawRepresentable>(_ column: String, as type: T.Type) throws -> T where T.RawValue == String {
        let raw = try required(column)
        guard let value = T(rawValue: raw) else {
            throw StoreError(.internalError, "the store holds '\(raw)' in \(column), which is not a known \(T.self)")
        }
        return value
    }

    private func missing(_ column: String) -> StoreError {
        StoreError(.internalError, "a stored row has no value for \(column) (columns: \(columns.joined(separator: ", ")))")
    }
}

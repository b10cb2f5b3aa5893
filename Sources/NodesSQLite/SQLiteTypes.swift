import CSQLite
import Columnar
import NodeKit
import SQLiteAccess

/// The documented mapping between SQLite declared types / storage classes and Sluice types (docs/connectors/sqlite.md).
enum SQLiteTypes {
    /// The Sluice type for a declared column type (SQLite's affinity rules, refined by common names).
    static func dataType(declared raw: String?) -> DataType {
        let t = (raw ?? "").uppercased()
        if t.contains("BOOL") { return .bool }
        if t.contains("INT") { return .int64 }
        if t.contains("DATETIME") || t.contains("TIMESTAMP") { return .timestamp }
        if t.contains("DATE") { return .date }
        if t.contains("JSON") { return .json }
        if t.hasPrefix("DECIMAL_TEXT("), let type = DataType(name: "decimal(" + t.dropFirst("DECIMAL_TEXT(".count)), case .decimal = type { return type }
        if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") || t.contains("UUID") { return .string }
        if t.contains("BLOB") || t.contains("BINARY") { return .bytes }
        if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") { return .float64 }
        if t.hasPrefix("DECIMAL(") || t.hasPrefix("NUMERIC("), let type = DataType(name: t), case .decimal = type { return type }
        if t.isEmpty { return .string }
        return .float64 // NUMERIC affinity
    }

    /// The declared type used when Sluice creates a column.
    static func declared(_ type: DataType) -> String {
        switch type {
        case .bool: "BOOLEAN"
        case .int64: "INTEGER"
        case .float64: "REAL"
        // Past 15 digits SQLite's NUMERIC affinity would turn the text into a REAL and lose digits: such columns are
        // declared with TEXT affinity (the name contains TEXT) and keep every digit.
        case let .decimal(p, s): p > 15 ? "DECIMAL_TEXT(\(p),\(s))" : "DECIMAL(\(p),\(s))"
        case .string: "TEXT"
        case .bytes: "BLOB"
        case .date: "DATE"
        case .timestamp: "TIMESTAMP"
        case .json: "JSON"
        }
    }

    /// Appends column `i` of the current row to `builder`; false if the stored value does not fit the type.
    static func append(_ statement: SQLiteStatement, _ i: Int, to builder: inout ColumnBuilder) -> Bool {
        let storage = statement.storageClass(i)
        if storage == SQLITE_NULL { builder.appendNull(); return true }
        switch builder.type {
        case .int64:
            if storage == SQLITE_INTEGER { builder.appendInt64(statement.int(i)); return true }
            if storage == SQLITE_FLOAT, statement.double(i).rounded() == statement.double(i), abs(statement.double(i)) < 9.2e18 {
                builder.appendInt64(Int64(statement.double(i)))
                return true
            }
            if storage == SQLITE_TEXT, let v = Int64(statement.text(i).trimmingCharacters(in: .whitespaces)) { builder.appendInt64(v); return true }
        case .float64:
            if storage == SQLITE_INTEGER || storage == SQLITE_FLOAT { builder.appendDouble(statement.double(i)); return true }
            if storage == SQLITE_TEXT, let v = Double(statement.text(i).trimmingCharacters(in: .whitespaces)) { builder.appendDouble(v); return true }
        case .bool:
            if storage == SQLITE_INTEGER, (0...1).contains(statement.int(i)) { builder.appendBool(statement.int(i) == 1); return true }
            if storage == SQLITE_TEXT {
                switch statement.text(i).lowercased() {
                case "true", "t", "1": builder.appendBool(true); return true
                case "false", "f", "0": builder.appendBool(false); return true
                default: break
                }
            }
        case let .decimal(precision, scale):
            let parsed = storage == SQLITE_FLOAT ? DecimalText.fromDouble(statement.double(i), scale: scale)
                : storage == SQLITE_INTEGER ? ExactDecimal.scaled(Int128(statement.int(i)), by: scale) : DecimalText.parse(statement.text(i), scale: scale)
            if let v = parsed.flatMap({ ExactDecimal.fitting($0, precision: precision) }) {
                builder.appendExact(v)
                return true
            }
        case .string, .json:
            if storage == SQLITE_INTEGER || storage == SQLITE_FLOAT {
                builder.appendString(storage == SQLITE_INTEGER ? String(statement.int(i)) : formatDouble(statement.double(i)))
            } else {
                builder.appendBytes(statement.bytes(i))
            }
            return true
        case .bytes:
            builder.appendBytes(statement.bytes(i))
            return true
        case .date:
            if storage == SQLITE_TEXT {
                let text = statement.text(i)
                if let d = CivilTime.parseDate(text) ?? CivilTime.parseTimestamp(text).map({ floorDivide($0, CivilTime.microsPerDay) }) { builder.appendInt64(d); return true }
            }
            if storage == SQLITE_INTEGER { builder.appendInt64(floorDivide(statement.int(i), 86_400)); return true }
        case .timestamp:
            if storage == SQLITE_TEXT, let t = CivilTime.parseTimestamp(statement.text(i)) { builder.appendInt64(t); return true }
            if storage == SQLITE_INTEGER { builder.appendInt64(statement.int(i) &* 1_000_000); return true }
            if storage == SQLITE_FLOAT { builder.appendInt64(Int64((statement.double(i) * 1_000_000).rounded())); return true }
        }
        builder.appendNull()
        return false
    }

    /// Binds row `row` of a column (through its cursor) to parameter `index`.
    static func bind(_ statement: SQLiteStatement, _ index: Int, _ c: ColumnCursor, _ row: Int) {
        if c.isNull(row) { statement.bindNull(index); return }
        switch c.type {
        case .int64: statement.bind(index, c.ints![row])
        case .float64: statement.bind(index, c.doubles![row])
        case .bool: statement.bind(index, c.bools![row] ? Int64(1) : 0)
        case let .decimal(_, scale): statement.bindText(index, formatDecimal(c.exact(row), scale: scale))
        case .string, .json: statement.bindText(index, c.bytes(row))
        case .bytes: statement.bindBlob(index, c.bytes(row))
        case .date: statement.bindText(index, CivilTime.formatDate(days: c.ints![row]))
        case .timestamp: statement.bindText(index, CivilTime.formatTimestamp(micros: c.ints![row]))
        }
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

import Foundation

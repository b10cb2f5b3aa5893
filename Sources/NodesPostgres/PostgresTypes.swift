import Columnar
import NIOCore
import NodeKit
import PostgresNIO

/// A column as the PostgreSQL catalog describes it.
struct PostgresColumn: Sendable {
    let name: String
    let oid: UInt32
    let typmod: Int32
    /// `format_type(oid, typmod)`, e.g. `numeric(12,2)`, `timestamp with time zone`, `integer[]`.
    let formatted: String
    let notNull: Bool
}

/// The documented mapping between PostgreSQL types and Sluice types (docs/connectors/postgres.md).
///
/// Reads select non-core types as text (`::text`, arrays through `array_to_json`), so decoding only
/// handles the binary forms of bool, integers, floats, numeric, text, date, timestamps and bytea.
enum PostgresTypes {
    static let epochOffsetDays: Int64 = 10_957 // 1970-01-01 → 2000-01-01
    /// 0001-01-01: earlier dates need PostgreSQL's BC notation.
    static let yearOneDays = CivilTime.days(year: 1, month: 1, day: 1)
    static let yearOneMicros = yearOneDays * CivilTime.microsPerDay
    static let epochOffsetMicros: Int64 = 946_684_800_000_000

    static func dataType(_ c: PostgresColumn) -> DataType {
        if c.formatted.hasSuffix("[]") { return .json }
        switch c.oid {
        case 16: return .bool
        case 20, 21, 23, 26: return .int64
        case 700, 701: return .float64
        case 1700:
            guard c.typmod >= 4 else { return .float64 }
            let precision = Int((c.typmod - 4) >> 16 & 0xFFFF), scale = Int((c.typmod - 4) & 0xFFFF)
            return precision <= ExactDecimal.maxPrecision ? .decimal(precision: precision, scale: scale) : .string
        case 1082: return .date
        case 1114, 1184: return .timestamp
        case 114, 3802: return .json
        case 17: return .bytes
        default: return .string // text, varchar, char, name, uuid, and anything else as its text form
        }
    }

    /// How a column is selected so that `append` can decode it.
    enum Conversion { case none, text, arrayToText, float8 }

    static func conversion(_ c: PostgresColumn) -> Conversion {
        if c.formatted.hasSuffix("[]") { return .arrayToText }
        switch dataType(c) {
        case .string where ![25, 1043, 1042, 19].contains(c.oid), .json: return .text
        case .float64 where c.oid == 1700: return .float8
        default: return .none
        }
    }

    /// The select-list expression that yields the column in a form `append` decodes.
    static func selectExpression(_ c: PostgresColumn, from source: String = "") -> String {
        let column = source + SQLText.quote(c.name)
        switch conversion(c) {
        case .none: return column
        case .arrayToText: return "array_to_json(\(column))::text AS \(SQLText.quote(c.name))"
        case .text: return "\(column)::text AS \(SQLText.quote(c.name))"
        case .float8: return "\(column)::float8 AS \(SQLText.quote(c.name))"
        }
    }

    /// The type OID of the column as `selectExpression` yields it (binary COPY sends no types: the decoder needs it).
    static func resultOID(_ c: PostgresColumn) -> UInt32 {
        switch conversion(c) {
        case .none: c.oid
        case .text, .arrayToText: 25
        case .float8: 701
        }
    }

    /// A column declared by the user (`postgres.read`'s `columns`): read as `castExpression` yields it.
    static func column(named name: String, as type: DataType) -> PostgresColumn {
        let oid: UInt32 = switch type {
        case .bool: 16
        case .int64: 20
        case .float64: 701
        case .decimal: 1700
        case .string: 25
        case .bytes: 17
        case .date: 1082
        case .timestamp: 1184
        case .json: 3802
        }
        var typmod: Int32 = -1
        if case let .decimal(precision, scale) = type { typmod = Int32((precision << 16) | scale) + 4 }
        return PostgresColumn(name: name, oid: oid, typmod: typmod, formatted: declared(type), notNull: false)
    }

    /// A declared column cast to its type, in the form `append` decodes.
    static func castExpression(_ c: PostgresColumn) -> String {
        let cast = "CAST(\(SQLText.quote(c.name)) AS \(c.formatted))"
        return (conversion(c) == .text ? "\(cast)::text" : cast) + " AS \(SQLText.quote(c.name))"
    }

    /// The column type Sluice creates for a Sluice type.
    static func declared(_ type: DataType) -> String {
        switch type {
        case .bool: "boolean"
        case .int64: "bigint"
        case .float64: "double precision"
        case let .decimal(p, s): "numeric(\(p),\(s))"
        case .string: "text"
        case .bytes: "bytea"
        case .date: "date"
        case .timestamp: "timestamp with time zone"
        case .json: "jsonb"
        }
    }

    /// Columns of a table from the catalog (empty if it does not exist).
    static func columns(of table: QualifiedName, on connection: PostgresConnection) async throws -> [PostgresColumn] {
        var result: [PostgresColumn] = []
        for try await (name, oid, typmod, formatted, notNull) in try await connection.query(PostgresQuery(unsafeSQL: columnsSQL(table)), logger: PostgresEndpoint.logger)
            .decode((String, Int64, Int64, String, Bool).self) {
            result.append(PostgresColumn(name: name, oid: UInt32(oid), typmod: Int32(typmod), formatted: formatted, notNull: notNull))
        }
        return result
    }

    /// Columns of a table from the catalog, on a wire session (empty if it does not exist).
    static func columns(of table: QualifiedName, on session: PostgresWireSession) async throws -> [PostgresColumn] {
        try await session.query(columnsSQL(table)).map { row in
            guard row.count == 5, let name = row[0], let oid = row[1].flatMap({ UInt32($0) }), let typmod = row[2].flatMap({ Int32($0) }) else {
                throw PostgresWireError.protocolViolation("unexpected catalog row \(row)")
            }
            return PostgresColumn(name: name, oid: oid, typmod: typmod, formatted: row[3] ?? "", notNull: row[4] == "t")
        }
    }

    private static func columnsSQL(_ table: QualifiedName) -> String {
        // The name is resolved like a table name in a query (search path, temp tables).
        """
        SELECT a.attname::text, a.atttypid::int8, a.atttypmod::int8, format_type(a.atttypid, a.atttypmod), a.attnotnull
        FROM pg_attribute a
        WHERE a.attrelid = to_regclass(\(SQLText.literal(table.quoted))) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """
    }

    // MARK: - Decoding binary values

    /// Appends a value in PostgreSQL's binary format (a result cell or a binary COPY field) of type `oid`;
    /// false (appending NULL) when it does not fit the column type (infinity, NaN, out of range).
    @inline(__always)
    static func appendBinary(_ raw: UnsafeRawBufferPointer, oid: UInt32, to builder: inout ColumnBuilder) -> Bool {
        var bytes = BigEndianBytes(raw)
        switch (builder.type, oid) {
        case (.bool, 16):
            guard let b = bytes.read(UInt8.self) else { break }
            builder.appendBool(b != 0)
            return true
        case (.int64, 20):
            guard let v = bytes.read(Int64.self) else { break }
            builder.appendInt64(v)
            return true
        case (.int64, 23):
            guard let v = bytes.read(Int32.self) else { break }
            builder.appendInt64(Int64(v))
            return true
        case (.int64, 21):
            guard let v = bytes.read(Int16.self) else { break }
            builder.appendInt64(Int64(v))
            return true
        case (.int64, 26):
            guard let v = bytes.read(UInt32.self) else { break }
            builder.appendInt64(Int64(v))
            return true
        case (.float64, 701):
            guard let bits = bytes.read(UInt64.self) else { break }
            builder.appendDouble(Double(bitPattern: bits))
            return true
        case (.float64, 700):
            guard let bits = bytes.read(UInt32.self) else { break }
            builder.appendDouble(Double(Float(bitPattern: bits)))
            return true
        case (.decimal(let precision, let scale), 1700):
            if precision > ExactDecimal.narrowPrecision {
                guard let v = wideNumeric(&bytes, scale: scale).flatMap({ ExactDecimal.fitting($0, precision: precision) }) else { break }
                builder.appendInt128(v)
            } else {
                guard let v = numeric(&bytes, scale: scale), Int128(v).magnitude < (ExactDecimal.power(precision) ?? 0).magnitude else { break }
                builder.appendInt64(v)
            }
            return true
        case (.date, 1082):
            guard let d = bytes.read(Int32.self), d != .max, d != .min else { break }
            builder.appendInt64(Int64(d) + epochOffsetDays)
            return true
        case (.timestamp, 1114), (.timestamp, 1184):
            // Sluice counts from 1970: the last ~30 years PostgreSQL allows (after 292277 AD) do not fit.
            guard let t = bytes.read(Int64.self), t != .max, t != .min else { break }
            let (micros, overflow) = t.addingReportingOverflow(epochOffsetMicros)
            guard !overflow else { break }
            builder.appendInt64(micros)
            return true
        case (.bytes, _), (.string, _), (.json, _):
            builder.appendBytes(raw.bindMemory(to: UInt8.self))
            return true
        default: break
        }
        builder.appendNull()
        return false
    }

    /// Decodes a binary numeric into an integer scaled by 10^scale (nil for NaN, infinities or overflow).
    static func numeric(_ bytes: inout BigEndianBytes, scale: Int) -> Int64? {
        guard let count = bytes.read(Int16.self), let weight = bytes.read(Int16.self),
              let sign = bytes.read(UInt16.self), bytes.read(Int16.self) != nil else { return nil }
        guard sign == 0 || sign == 0x4000 else { return nil }
        var value: Int64 = 0
        var exponent = Int(weight) * 4 // power of ten of the first digit group's last digit
        for _ in 0..<Int(count) {
            guard let group = bytes.read(Int16.self) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10_000)
            let (a, o2) = m.addingReportingOverflow(Int64(group))
            guard !o1, !o2 else { return nil }
            value = a
            exponent -= 4
        }
        // value × 10^(exponent + 4) is the number; scale it to 10^-scale.
        var shift = exponent + 4 + scale
        while shift > 0 {
            let (m, o) = value.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            value = m
            shift -= 1
        }
        if shift < 0 {
            var divisor: Int64 = 1
            for _ in 0..<(-shift) { divisor *= 10 }
            let remainder = value % divisor
            value /= divisor
            if remainder * 2 >= divisor { value += 1 }
        }
        return sign == 0x4000 ? -value : value
    }

    /// A binary numeric as a scaled integer of 19 to 38 digits: its base-10000 groups written out as decimal text,
    /// then parsed at `scale` (rounding half away from zero); nil for NaN, infinities or more than 38 digits.
    static func wideNumeric(_ bytes: inout BigEndianBytes, scale: Int) -> Int128? {
        guard let count = bytes.read(Int16.self), let weight = bytes.read(Int16.self),
              let sign = bytes.read(UInt16.self), bytes.read(Int16.self) != nil else { return nil }
        guard sign == 0 || sign == 0x4000, count >= 0 else { return nil }
        var groups: [Int16] = []
        for _ in 0..<Int(count) {
            guard let group = bytes.read(Int16.self) else { return nil }
            groups.append(group)
        }
        // Group k (from 0) stands for 10000^(weight - k).
        var text = sign == 0x4000 ? "-" : ""
        let integerGroups = Int(weight) + 1
        if integerGroups <= 0 { text += "0" }
        for k in 0..<max(integerGroups, 0) {
            let group = k < groups.count ? Int(groups[k]) : 0
            text += k == 0 ? String(group) : fourDigits(group)
        }
        text += "."
        if integerGroups < 0 { text += String(repeating: "0000", count: -integerGroups) }
        for k in max(integerGroups, 0)..<max(groups.count, integerGroups) { text += fourDigits(Int(groups[k])) }
        return DecimalText.parse(text, scale: scale)
    }

    private static func fourDigits(_ group: Int) -> String {
        let digits = String(group)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `YYYY-MM-DD`, with PostgreSQL's ` BC` suffix for years before 1 (year 0 is 1 BC).
    static func postgresText(date days: Int64) -> String {
        let (y, m, d) = CivilTime.civil(days: days)
        guard y <= 0 else { return CivilTime.formatDate(days: days) }
        let shifted = CivilTime.days(year: 1 - y, month: m, day: d)
        return CivilTime.formatDate(days: shifted) + " BC"
    }

    /// An ISO timestamp in UTC that PostgreSQL reads back exactly (BC years included).
    static func postgresText(timestamp micros: Int64) -> String {
        var day = micros / CivilTime.microsPerDay
        var rest = micros % CivilTime.microsPerDay
        if rest < 0 { rest += CivilTime.microsPerDay; day -= 1 }
        let (y, _, _) = CivilTime.civil(days: day)
        guard y <= 0 else { return CivilTime.formatTimestamp(micros: micros) }
        let time = CivilTime.formatTimestamp(micros: rest).dropFirst(10).dropLast() // "THH:MM:SS[.f]"
        return postgresText(date: day).replacingOccurrences(of: " BC", with: "") + time + "+00 BC"
    }
}

import Foundation

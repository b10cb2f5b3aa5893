import Columnar
import NIOCore

/// How a load's rows travel in `COPY … FROM STDIN`: binary when every column's Sluice type has an exact
/// binary form for the target column's type, else text (the server then parses and casts every value).
///
/// Binary spares the server its text parsing, most of a load's server time (timestamps, dates and floats
/// above all; docs/performance.md). Binary fields must match the column's type byte for byte, so pairs
/// that need a cast (int64 into `integer`, a string into `uuid`, …) keep the whole COPY in text.
enum PostgresCopyFormat: Equatable, Sendable {
    case text
    case binary([BinaryField])

    /// A column's binary wire form, named by the PostgreSQL type it is sent as.
    enum BinaryField: Equatable, Sendable {
        case bool, int8, float8, numeric(scale: Int), text, jsonb, bytea, date, timestamp
    }

    /// The format for loading `schema` (the input's columns, in COPY's column order) into `columns` (the table's).
    static func choose(_ schema: Schema, into columns: [PostgresColumn]) -> PostgresCopyFormat {
        var fields: [BinaryField] = []
        for field in schema.fields {
            guard let column = columns.first(where: { $0.name == field.name }), !column.formatted.hasSuffix("[]"),
                  let binary = binaryField(field.type, oid: column.oid) else { return .text }
            fields.append(binary)
        }
        return .binary(fields)
    }

    private static func binaryField(_ type: DataType, oid: UInt32) -> BinaryField? {
        switch (type, oid) {
        case (.bool, 16): .bool
        case (.int64, 20): .int8
        case (.float64, 701): .float8
        case let (.decimal(_, scale), 1700): .numeric(scale: scale)
        case (.string, 25), (.string, 1043), (.string, 1042), (.string, 114), (.json, 25), (.json, 114): .text
        case (.string, 3802), (.json, 3802): .jsonb
        case (.bytes, 17): .bytea
        case (.date, 1082): .date
        case (.timestamp, 1114), (.timestamp, 1184): .timestamp
        default: nil
        }
    }

    /// What the copy data starts with.
    func appendHeader(to out: inout ByteBuffer) {
        guard case .binary = self else { return }
        out.writeBytes(Array("PGCOPY\n".utf8) + [0xFF, 13, 10, 0]) // signature
        out.writeInteger(Int32(0)) // flags
        out.writeInteger(Int32(0)) // header extension length
    }

    /// What the copy data ends with.
    func appendTrailer(to out: inout ByteBuffer) {
        guard case .binary = self else { return }
        out.writeInteger(Int16(-1))
    }

    /// Appends row `row` of the columns behind `cursors`.
    @inline(__always)
    func appendRow(_ cursors: [ColumnCursor], _ row: Int, to out: inout ByteBuffer) {
        switch self {
        case .text: Self.appendTextRow(cursors, row, to: &out)
        case let .binary(fields): Self.appendBinaryRow(cursors, row, fields, to: &out)
        }
    }

    // MARK: - Binary

    /// Appends one row in COPY's binary format: a field count, then each field's length (-1 for NULL) and bytes.
    static func appendBinaryRow(_ cursors: [ColumnCursor], _ row: Int, _ fields: [BinaryField], to out: inout ByteBuffer) {
        var bound = 2
        for (cursor, field) in zip(cursors, fields) {
            bound += 4
            guard !cursor.isNull(row) else { continue }
            switch field {
            case .text, .bytea: bound += cursor.bytes(row).count
            case .jsonb: bound += 1 + cursor.bytes(row).count
            default: bound += 32 // numbers, dates and timestamps (numeric: 8 + 2 bytes per group of 4 digits)
            }
        }
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
            let p = raw.baseAddress!
            p.storeBytes(of: Int16(cursors.count).bigEndian, as: Int16.self)
            var n = 2
            for (cursor, field) in zip(cursors, fields) {
                let length = p + n
                n += 4
                if cursor.isNull(row) { length.storeBytes(of: Int32(-1).bigEndian, as: Int32.self); continue }
                let start = n
                switch field {
                case .bool: p.storeBytes(of: cursor.bools![row] ? UInt8(1) : 0, toByteOffset: n, as: UInt8.self); n += 1
                case .int8: p.storeBytes(of: cursor.ints![row].bigEndian, toByteOffset: n, as: Int64.self); n += 8
                case .float8: p.storeBytes(of: cursor.doubles![row].bitPattern.bigEndian, toByteOffset: n, as: UInt64.self); n += 8
                case let .numeric(scale):
                    if let wides = cursor.wides { n += writeWideNumeric(wides[row], scale: scale, to: p + n) } else { n += writeNumeric(cursor.ints![row], scale: scale, to: p + n) }
                case .date: p.storeBytes(of: postgresDate(cursor.ints![row]).bigEndian, toByteOffset: n, as: Int32.self); n += 4
                case .timestamp: p.storeBytes(of: postgresTimestamp(cursor.ints![row]).bigEndian, toByteOffset: n, as: Int64.self); n += 8
                case .jsonb:
                    p.storeBytes(of: UInt8(1), toByteOffset: n, as: UInt8.self) // jsonb's binary version
                    n += 1
                    n += copy(cursor.bytes(row), to: p + n)
                case .text, .bytea: n += copy(cursor.bytes(row), to: p + n)
                }
                length.storeBytes(of: Int32(n - start).bigEndian, as: Int32.self)
            }
            return n
        }
    }

    @inline(__always)
    private static func copy(_ bytes: UnsafeBufferPointer<UInt8>, to p: UnsafeMutableRawPointer) -> Int {
        if let base = bytes.baseAddress { p.copyMemory(from: base, byteCount: bytes.count) }
        return bytes.count
    }

    /// Days since 2000-01-01. A day PostgreSQL cannot hold becomes one it refuses ("date out of range"),
    /// never one of its infinities (Int32.min and .max).
    static func postgresDate(_ days: Int64) -> Int32 {
        guard let d = Int32(exactly: days - PostgresTypes.epochOffsetDays), d != .max, d != .min else { return .max - 1 }
        return d
    }

    /// Microseconds since 2000-01-01; out-of-range instants become one PostgreSQL refuses, never an infinity.
    static func postgresTimestamp(_ micros: Int64) -> Int64 {
        let (t, overflow) = micros.subtractingReportingOverflow(PostgresTypes.epochOffsetMicros)
        guard !overflow, t != .max, t != .min else { return .max - 1 }
        return t
    }

    /// Writes `unscaled × 10^-scale` as a binary numeric: digit count, weight (of the first base-10000
    /// digit), sign, display scale, then the base-10000 digits, most significant first, trailing zeros dropped.
    static func writeNumeric(_ unscaled: Int64, scale: Int, to p: UnsafeMutableRawPointer) -> Int {
        let fractionGroups = (scale + 3) / 4
        var magnitude = UInt128(unscaled.magnitude)
        for _ in 0..<(fractionGroups * 4 - scale) { magnitude *= 10 } // align the fraction to whole groups
        // Base-10000 digits, least significant first; an Int64 with a 3-digit shift needs at most 6.
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        return withUnsafeMutableBytes(of: &groups) { raw in
            let digits = raw.bindMemory(to: UInt16.self)
            while magnitude > 0 {
                digits[count] = UInt16(magnitude % 10_000)
                magnitude /= 10_000
                count += 1
            }
            return storeNumeric(UnsafeBufferPointer(digits), count: count, fractionGroups: fractionGroups, negative: unscaled < 0, scale: scale, to: p)
        }
    }

    /// `writeNumeric` for a decimal of 19 to 38 digits: its decimal digits cut into base-10000 groups around the point
    /// (up to 11 groups, more than 128 bits hold once the fraction is aligned).
    static func writeWideNumeric(_ unscaled: Int128, scale: Int, to p: UnsafeMutableRawPointer) -> Int {
        let fractionGroups = (scale + 3) / 4
        // Decimal digits, least significant first, the fraction aligned to whole groups by zeros below it.
        var digits = [UInt8](repeating: 0, count: fractionGroups * 4 - scale)
        var magnitude = unscaled.magnitude
        while magnitude > 0 { digits.append(UInt8(magnitude % 10)); magnitude /= 10 }
        var groups: [UInt16] = []
        for start in stride(from: 0, to: digits.count, by: 4) {
            groups.append(digits[start..<min(start + 4, digits.count)].reversed().reduce(0) { $0 * 10 + UInt16($1) })
        }
        var count = groups.count
        while count > 0, groups[count - 1] == 0 { count -= 1 }
        return groups.withUnsafeBufferPointer { storeNumeric($0, count: count, fractionGroups: fractionGroups, negative: unscaled < 0, scale: scale, to: p) }
    }

    /// The binary numeric's header and its base-10000 `groups` (least significant first, the first `count` of them,
    /// the last nonzero), most significant first with trailing zero groups dropped; returns the bytes written.
    @inline(__always)
    private static func storeNumeric(_ groups: UnsafeBufferPointer<UInt16>, count: Int, fractionGroups: Int, negative: Bool, scale: Int,
                                     to p: UnsafeMutableRawPointer) -> Int {
        var lowest = 0
        while lowest < count, groups[lowest] == 0 { lowest += 1 }
        let stored = count - lowest
        let weight = count == 0 ? 0 : count - fractionGroups - 1
        p.storeBytes(of: Int16(stored).bigEndian, as: Int16.self)
        p.storeBytes(of: Int16(weight).bigEndian, toByteOffset: 2, as: Int16.self)
        p.storeBytes(of: (negative ? UInt16(0x4000) : 0).bigEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: Int16(scale).bigEndian, toByteOffset: 6, as: Int16.self)
        var n = 8
        for i in stride(from: count - 1, through: lowest, by: -1) {
            p.storeBytes(of: groups[i].bigEndian, toByteOffset: n, as: UInt16.self)
            n += 2
        }
        return n
    }

    // MARK: - Text

    /// Appends one row of the batch in COPY text format (tab-separated, `\N` for NULL, backslash escapes).
    ///
    /// The row is written in one pass into raw memory reserved for its largest possible size: a ByteBuffer
    /// write per field paid a capacity and an exclusivity check each, 15% of a table copy's encoding time.
    static func appendTextRow(_ cursors: [ColumnCursor], _ row: Int, to out: inout ByteBuffer) {
        var bound = 1
        for cursor in cursors {
            bound += 3
            guard !cursor.isNull(row) else { continue }
            switch cursor.type {
            case .string, .json: bound += 2 * cursor.bytes(row).count
            case .bytes: bound += 3 + 2 * cursor.bytes(row).count
            default: bound += 64 // numbers, dates and timestamps (BC ones included)
            }
        }
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var n = 0
            for (c, cursor) in cursors.enumerated() {
                if c > 0 { p[n] = 9; n += 1 }
                if cursor.isNull(row) { p[n] = 92; p[n + 1] = 78; n += 2; continue }
                switch cursor.type {
                case .int64: n += NumberText.writeInt(cursor.ints![row], to: p + n)
                case .float64:
                    let d = cursor.doubles![row]
                    n += d.isFinite ? NumberText.writeDouble(d, to: p + n) : put(d.isNaN ? "NaN" : d > 0 ? "Infinity" : "-Infinity", p + n)
                case .bool: p[n] = cursor.bools![row] ? 116 : 102; n += 1
                case let .decimal(_, scale): n += put(formatDecimal(cursor.exact(row), scale: scale), p + n)
                case .date:
                    let d = cursor.ints![row]
                    n += d >= PostgresTypes.yearOneDays ? CivilTime.writeDate(days: d, to: p + n) : put(PostgresTypes.postgresText(date: d), p + n)
                case .timestamp:
                    let t = cursor.ints![row]
                    n += t >= PostgresTypes.yearOneMicros ? CivilTime.writeTimestamp(micros: t, to: p + n) : put(PostgresTypes.postgresText(timestamp: t), p + n)
                case .string, .json: n += writeEscaped(cursor.bytes(row), to: p + n)
                case .bytes:
                    p[n] = 92; p[n + 1] = 92; p[n + 2] = 120 // \\x
                    n += 3
                    for b in cursor.bytes(row) {
                        p[n] = hexDigits[Int(b >> 4)]
                        p[n + 1] = hexDigits[Int(b & 0xF)]
                        n += 2
                    }
                }
            }
            p[n] = 10
            return n + 1
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Copies short text (at most 64 bytes, as `appendTextRow` reserves) to `p`; returns its length.
    private static func put(_ text: String, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        var text = text
        return text.withUTF8 { utf8 in
            let count = min(utf8.count, 64)
            p.update(from: utf8.baseAddress!, count: count)
            return count
        }
    }

    /// Writes text with COPY's backslash escapes (backslash, tab, line feed, carriage return) to `p`, which has
    /// room for twice its length; returns the length written.
    @inline(__always)
    static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        for b in bytes {
            switch b {
            case 92: p[n] = 92; p[n + 1] = 92; n += 2
            case 9: p[n] = 92; p[n + 1] = 116; n += 2
            case 10: p[n] = 92; p[n + 1] = 110; n += 2
            case 13: p[n] = 92; p[n + 1] = 114; n += 2
            default: p[n] = b; n += 1
            }
        }
        return n
    }
}

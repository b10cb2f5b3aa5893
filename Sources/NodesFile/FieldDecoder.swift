import Columnar

/// Appends text fields to one typed column, applying null markers. Used by the CSV reader.
struct FieldDecoder {
    let type: DataType
    var builder: ColumnBuilder
    /// Unquoted values that mean NULL (the empty string by default).
    let nullMarkers: [[UInt8]]
    let emptyIsNull: Bool
    /// What happens to string and json fields that are not valid UTF-8.
    let invalidText: UTF8Validation.Policy

    init(type: DataType, nullMarkers: [[UInt8]], capacity: Int, invalidText: UTF8Validation.Policy = .reject) {
        self.type = type
        self.invalidText = invalidText
        builder = ColumnBuilder(type: type, capacity: capacity)
        self.nullMarkers = nullMarkers.filter { !$0.isEmpty }
        emptyIsNull = nullMarkers.contains { $0.isEmpty }
    }

    /// Appends one field; returns false (appending NULL) if the text is not a valid value of the type.
    @inline(__always)
    mutating func append(_ field: UnsafeBufferPointer<UInt8>, quoted: Bool) -> Bool {
        if !quoted {
            if field.isEmpty {
                if emptyIsNull || type.storage != .bytes { builder.appendNull(); return true }
            } else if !nullMarkers.isEmpty, isNullMarker(field) {
                builder.appendNull()
                return true
            }
        } else if field.isEmpty, type.storage != .bytes {
            builder.appendNull()
            return true
        }
        switch type {
        case .bytes:
            builder.appendBytes(field)
            return true
        case .string, .json:
            if UTF8Validation.isValid(field) {
                builder.appendBytes(field)
                return true
            }
            guard invalidText == .replace else { break }
            UTF8Validation.repaired(field).withUnsafeBufferPointer { builder.appendBytes($0) }
            return true
        case .int64:
            if let v = TextParsing.int64(field) ?? TextParsing.int64(TextParsing.trimmed(field)) { builder.appendInt64(v); return true }
        case .float64:
            if let v = TextParsing.double(field) ?? TextParsing.double(TextParsing.trimmed(field)) { builder.appendDouble(v); return true }
        case .bool:
            if let v = TextParsing.bool(TextParsing.trimmed(field)) { builder.appendBool(v); return true }
        case .date:
            if let v = CivilTime.parseDate(TextParsing.trimmed(field)) { builder.appendInt64(v); return true }
        case .timestamp:
            if let v = CivilTime.parseTimestamp(TextParsing.trimmed(field)) { builder.appendInt64(v); return true }
        case let .decimal(precision, scale) where precision > ExactDecimal.narrowPrecision:
            if let v = DecimalText.parse(TextParsing.trimmed(field), scale: scale).flatMap({ ExactDecimal.fitting($0, precision: precision) }) {
                builder.appendInt128(v)
                return true
            }
        case let .decimal(precision, scale):
            if let v = TextParsing.decimal(TextParsing.trimmed(field), scale: scale), Double(v.magnitude) < pow10(precision) { builder.appendInt64(v); return true }
        }
        builder.appendNull()
        return false
    }

    @inline(__always)
    private func isNullMarker(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        for marker in nullMarkers where marker.count == field.count {
            if marker.withUnsafeBufferPointer({ m in memcmp(m.baseAddress!, field.baseAddress!, m.count) == 0 }) { return true }
        }
        return false
    }
}

/// Infers a column type from sample values: the narrowest of int64, float64, bool, date, timestamp, string.
///
/// Rules (documented in docs/nodes): NULLs are ignored; integers with a leading zero (`007`) stay strings;
/// a column with no value in the sample is a string.
struct TypeInference {
    private var canInt = true, canFloat = true, canBool = true, canDate = true, canTimestamp = true
    private var sawValue = false
    /// The value that turned a typed column into a string: the type every value before it had, the value and its
    /// line; then how many values were sampled and how many of them did not fit that type.
    private(set) var demotion: (type: DataType, value: String, line: Int)?
    private(set) var values = 0, misfits = 0

    /// Observes one value (on `line` of the file, for the note a demotion leaves).
    mutating func observe(_ field: UnsafeBufferPointer<UInt8>, line: Int) {
        let before = sawValue ? inferred : nil
        values += 1
        if let demotion {
            if !Self.fits(field, demotion.type) { misfits += 1 }
            return
        }
        observe(field)
        if let before, before != .string, inferred == .string {
            demotion = (before, String(decoding: UnsafeBufferPointer(rebasing: field[..<min(field.count, 60)]), as: UTF8.self), line)
            misfits = 1
        }
    }

    /// Why the column is a string although nearly every sampled value has a narrower type (at most one in ten
    /// does not), or nil.
    func fallbackNote(column: String) -> String? {
        guard let demotion, misfits * 10 <= values else { return nil }
        let others = misfits > 1 ? " (\(misfits) of \(values) sampled values are not \(demotion.type))" : " (the other \(values - 1) sampled values are \(demotion.type))"
        return "column '\(column)' became string because of '\(demotion.value)' on line \(demotion.line)\(others); "
            + "declare it in schema ({\(column): \(demotion.type)}) to reject such values, or add '\(demotion.value)' to nullValues"
    }

    private static func fits(_ field: UnsafeBufferPointer<UInt8>, _ type: DataType) -> Bool {
        switch type {
        case .int64: TextParsing.int64(field) != nil
        case .float64: TextParsing.double(field) != nil
        case .bool: isBoolWord(field)
        case .date: CivilTime.parseDate(field) != nil
        case .timestamp: CivilTime.parseTimestamp(field) != nil
        default: true
        }
    }

    private mutating func observe(_ field: UnsafeBufferPointer<UInt8>) {
        sawValue = true
        if canInt {
            let leadingZero = field.count > 1 && field[0] == UInt8(ascii: "0") || field.count > 2 && (field[0] == UInt8(ascii: "-") || field[0] == UInt8(ascii: "+")) && field[1] == UInt8(ascii: "0")
            canInt = !leadingZero && TextParsing.int64(field) != nil
        }
        if canFloat {
            let leadingZero = field.count > 1 && field[0] == UInt8(ascii: "0") && field[1] != UInt8(ascii: ".")
            canFloat = !leadingZero && TextParsing.double(field) != nil
        }
        if canBool { canBool = TextParsing.bool(field).map { _ in Self.isBoolWord(field) } ?? false }
        if canDate { canDate = CivilTime.parseDate(field) != nil }
        if canTimestamp { canTimestamp = field.count > 10 && CivilTime.parseTimestamp(field) != nil }
    }

    /// Only words count as booleans in inference (`1`/`0` stay integers).
    private static func isBoolWord(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        let word = String(decoding: field, as: UTF8.self).lowercased()
        return word == "true" || word == "false"
    }

    var inferred: DataType {
        guard sawValue else { return .string }
        if canInt { return .int64 }
        if canFloat { return .float64 }
        if canBool { return .bool }
        if canDate { return .date }
        if canTimestamp { return .timestamp }
        return .string
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

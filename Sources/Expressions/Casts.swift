import Columnar
import Foundation

/// Conversions between values, following PostgreSQL's input and output rules where they meet ours.
enum Casts {
    static func canCast(_ from: DataType, to: DataType) -> Bool {
        if from == to || to == .string { return true }
        switch (from, to) {
        case (.string, _): return true
        case (.int64, .float64), (.int64, .decimal), (.int64, .bool), (.bool, .int64): return true
        case (.float64, .int64), (.float64, .decimal), (.decimal, .int64), (.decimal, .float64), (.decimal, .decimal): return true
        case (.date, .timestamp), (.timestamp, .date): return true
        case (.int64, .json), (.float64, .json), (.bool, .json): return true
        default: return false
        }
    }

    static func cast(_ value: Value, to type: DataType) throws(RowFailure) -> Value {
        if value.isNull { return .null }
        switch (value, type) {
        case (_, .string):
            if case let .string(s) = value { return .string(s) }
            return .string(value.description)
        case let (.string(s), _): return try parse(s, as: type)
        case let (.int(i), .int64): return .int(i)
        case let (.int(i), .float64): return .float(Double(i))
        case let (.int(i), .decimal(p, s)):
            guard let v = ExactDecimal.rescale(Int128(i), from: 0, to: s).flatMap({ ExactDecimal.fitting($0, precision: p) }) else { throw .outOfRange("decimal(\(p),\(s))") }
            return .decimal(v, scale: s)
        case let (.int(i), .bool): return .bool(i != 0)
        case let (.int(i), .json): return .json(String(i))
        case let (.bool(b), .int64): return .int(b ? 1 : 0)
        case let (.bool(b), .bool): return .bool(b)
        case let (.bool(b), .json): return .json(b ? "true" : "false")
        case let (.float(d), .float64): return .float(d)
        case let (.float(d), .json): return .json(formatDouble(d))
        case let (.float(d), .int64):
            let r = d.rounded(.toNearestOrEven)
            guard r.isFinite, r >= -9.223372036854775808e18, r < 9.223372036854775808e18 else { throw .outOfRange("int64") }
            return .int(Int64(r))
        case let (.float(d), .decimal(p, s)): return try decimal(d, precision: p, scale: s)
        case let (.decimal(v, s), .float64): return .float(Double(v) / pow10(s))
        case let (.decimal(v, s), .int64):
            guard let whole = ExactDecimal.rescale(v, from: s, to: 0).flatMap({ Int64(exactly: $0) }) else { throw .outOfRange("int64") }
            return .int(whole)
        case let (.decimal(v, s), .decimal(p, target)):
            guard let r = ExactDecimal.rescale(v, from: s, to: target).flatMap({ ExactDecimal.fitting($0, precision: p) }) else {
                throw .outOfRange("decimal(\(p),\(target))")
            }
            return .decimal(r, scale: target)
        case let (.date(d), .timestamp): return .timestamp(d * CivilTime.microsPerDay)
        case let (.date(d), .date): return .date(d)
        case let (.timestamp(t), .date): return .date(floorDiv(t, CivilTime.microsPerDay))
        case let (.timestamp(t), .timestamp): return .timestamp(t)
        case let (.json(j), .json): return .json(j)
        case let (.bytes(b), .bytes): return .bytes(b)
        default:
            throw RowFailure(code: "invalid_cast", message: "cannot cast \(value.dataType.map(String.init(describing:)) ?? "NULL") to \(type)")
        }
    }

    static func parse(_ text: String, as type: DataType) throws(RowFailure) -> Value {
        let s = text.trimmingCharacters(in: .whitespaces)
        func invalid() -> RowFailure {
            RowFailure(code: "invalid_cast", message: "invalid input syntax for type \(type): \"\(text)\"")
        }
        switch type {
        case .string: return .string(text)
        case .json: return .json(text)
        case .bytes: return .bytes(Array(text.utf8))
        case .int64:
            guard let v = Int64(s) else {
                if let d = Double(s), d.rounded() == d, abs(d) < 9.2e18, s.contains("e") == false, s.contains(".") { throw invalid() }
                throw invalid()
            }
            return .int(v)
        case .float64:
            switch s.lowercased() {
            case "nan": return .float(.nan)
            case "infinity", "inf", "+infinity": return .float(.infinity)
            case "-infinity", "-inf": return .float(-.infinity)
            default:
                guard let d = Double(s), !s.isEmpty else { throw invalid() }
                return .float(d)
            }
        case .bool:
            switch s.lowercased() {
            case "true", "t", "yes", "y", "on", "1": return .bool(true)
            case "false", "f", "no", "n", "off", "0": return .bool(false)
            default: throw invalid()
            }
        case let .decimal(p, scale):
            guard let v = parseDecimal(s, scale: scale) else {
                // Digits that do not fit in 38 are out of range, not a syntax error.
                if s.allSatisfy({ $0.isNumber || "+-.".contains($0) }), s.contains(where: \.isNumber) { throw .outOfRange("decimal(\(p),\(scale))") }
                throw invalid()
            }
            guard ExactDecimal.fitting(v, precision: p) != nil else { throw .outOfRange("decimal(\(p),\(scale))") }
            return .decimal(v, scale: scale)
        case .date:
            if let d = CivilTime.parseDate(s) { return .date(d) }
            if let t = CivilTime.parseTimestamp(s) { return .date(floorDiv(t, CivilTime.microsPerDay)) }
            throw invalid()
        case .timestamp:
            guard let t = CivilTime.parseTimestamp(s) else { throw invalid() }
            return .timestamp(t)
        }
    }

    static func parseDecimal(_ s: String, scale: Int) -> Int128? { DecimalText.parse(s, scale: scale) }

    static func decimal(_ d: Double, precision: Int, scale: Int) throws(RowFailure) -> Value {
        guard let v = DecimalText.fromDouble(d, scale: scale).flatMap({ ExactDecimal.fitting($0, precision: precision) }) else { throw .outOfRange("decimal(\(precision),\(scale))") }
        return .decimal(v, scale: scale)
    }
}

/// Integer division rounding toward negative infinity.
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Casts outside expressions (inline rows, test expectations), with `CAST`'s rules.
public enum ValueCast {
    /// `value` as `type`, or why it cannot be (the message).
    public static func cast(_ value: Value, to type: DataType) -> Result<Value, CastFailure> {
        do { return .success(try Casts.cast(value, to: type)) } catch {
            return .failure(CastFailure(code: error.code, message: error.message))
        }
    }

    /// Why a value could not be cast: a code (`invalid_value`, `out_of_range`, `invalid_cast`) and a message.
    public struct CastFailure: Error, Sendable {
        public let code: String
        public let message: String
    }
}

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
        case let (.int(i), .decimal(p, s)): return try decimal(Double(i), precision: p, scale: s)
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
        case let (.decimal(v, s), .int64): return .int(rescale(v, from: s, to: 0))
        case let (.decimal(v, s), .decimal(p, target)):
            let r = rescale(v, from: s, to: target)
            guard Double(r.magnitude) < pow10(p) else { throw .outOfRange("decimal(\(p),\(target))") }
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
            guard let v = parseDecimal(s, scale: scale) else { throw invalid() }
            guard Double(v.magnitude) < pow10(p) else { throw .outOfRange("decimal(\(p),\(scale))") }
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

    /// Parses a plain decimal string (`-12.345`) into an integer scaled by 10^scale, rounding half away from zero.
    static func parseDecimal(_ s: String, scale: Int) -> Int64? {
        var negative = false
        var integer: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var roundUp = false
        var seenPoint = false
        var digits = 0
        for (i, c) in s.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "-") where i == 0: negative = true
            case UInt8(ascii: "+") where i == 0: break
            case UInt8(ascii: ".") where !seenPoint: seenPoint = true
            case 48...57:
                digits += 1
                let d = Int64(c - 48)
                if !seenPoint {
                    guard integer < 922_337_203_685_477_580 else { return nil }
                    integer = integer * 10 + d
                } else if fractionDigits < scale {
                    fraction = fraction * 10 + d
                    fractionDigits += 1
                } else if fractionDigits == scale {
                    roundUp = d >= 5
                    fractionDigits += 1
                }
            default: return nil
            }
        }
        guard digits > 0 else { return nil }
        var fractionScaled = fraction
        for _ in min(fractionDigits, scale)..<scale { fractionScaled *= 10 }
        let (m, o1) = integer.multipliedReportingOverflow(by: Int64(pow10(scale)))
        let (v, o2) = m.addingReportingOverflow(fractionScaled + (roundUp ? 1 : 0))
        guard !o1, !o2 else { return nil }
        return negative ? -v : v
    }

    static func decimal(_ d: Double, precision: Int, scale: Int) throws(RowFailure) -> Value {
        let scaled = (d * pow10(scale)).rounded(.toNearestOrAwayFromZero)
        guard scaled.isFinite, abs(scaled) < pow10(precision) else { throw .outOfRange("decimal(\(precision),\(scale))") }
        return .decimal(Int64(scaled), scale: scale)
    }
}

/// Integer division rounding toward negative infinity.
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

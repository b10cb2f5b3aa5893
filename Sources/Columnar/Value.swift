/// One scalar value: parameters, literals, previews and row access. Never used per row on the data path.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    /// A fixed-point number: `unscaled / 10^scale`.
    case decimal(Int128, scale: Int)
    case string(String)
    case bytes([UInt8])
    /// Days since 1970-01-01.
    case date(Int64)
    /// Microseconds since 1970-01-01T00:00:00Z.
    case timestamp(Int64)
    case json(String)

    public var isNull: Bool { if case .null = self { true } else { false } }

    /// The natural type of this value (`nil` for NULL, which fits any type).
    public var dataType: DataType? {
        switch self {
        case .null: nil
        case .bool: .bool
        case .int: .int64
        case .float: .float64
        case let .decimal(v, scale): .decimal(precision: ExactDecimal.precision(of: v, scale: scale) > ExactDecimal.narrowPrecision ? ExactDecimal.maxPrecision : ExactDecimal.narrowPrecision, scale: scale)
        case .string: .string
        case .bytes: .bytes
        case .date: .date
        case .timestamp: .timestamp
        case .json: .json
        }
    }

    /// The value as text, the way csv.write prints it.
    public var description: String {
        switch self {
        case .null: "NULL"
        case let .bool(b): b ? "true" : "false"
        case let .int(i): String(i)
        case let .float(d): formatDouble(d)
        case let .decimal(v, scale): formatDecimal(v, scale: scale)
        case let .string(s): s
        case let .bytes(b): "\\x" + b.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        case let .date(d): CivilTime.formatDate(days: d)
        case let .timestamp(t): CivilTime.formatTimestamp(micros: t)
        case let .json(j): j
        }
    }

    /// A numeric view for comparisons and aggregation (`nil` if not numeric).
    public var doubleValue: Double? {
        switch self {
        case let .int(i): Double(i)
        case let .float(d): d
        case let .decimal(v, scale): Double(v) / pow10(scale)
        default: nil
        }
    }
}

/// Formats a double the way PostgreSQL's float8 output does for common values: shortest round-trip digits.
public func formatDouble(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
    if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
    return "\(d)"
}

/// Formats a scaled integer with exactly `scale` digits after the point.
public func formatDecimal(_ unscaled: Int64, scale: Int) -> String {
    guard scale > 0 else { return String(unscaled) }
    let digits = String(unscaled.magnitude).leftPadded(to: scale + 1)
    let split = digits.index(digits.endIndex, offsetBy: -scale)
    return (unscaled < 0 ? "-" : "") + digits[..<split] + "." + digits[split...]
}

/// Formats a scaled integer with exactly `scale` digits after the point.
public func formatDecimal(_ unscaled: Int128, scale: Int) -> String {
    guard scale > 0 else { return String(unscaled) }
    let negative = unscaled < 0
    let digits = String(unscaled.magnitude).leftPadded(to: scale + 1)
    let split = digits.index(digits.endIndex, offsetBy: -scale)
    return (negative ? "-" : "") + digits[..<split] + "." + digits[split...]
}

/// 10^n as a Double, for decimal conversion.
public func pow10(_ n: Int) -> Double {
    var result = 1.0
    for _ in 0..<max(0, n) { result *= 10 }
    return result
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

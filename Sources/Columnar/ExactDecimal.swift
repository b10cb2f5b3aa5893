/// Exact fixed-point arithmetic on decimals stored as scaled 64-bit integers, with 128-bit intermediates:
/// sums, products and quotients are computed without rounding noise and checked against the 18 digits a stored
/// decimal holds.
public enum ExactDecimal {
    /// The digits a stored decimal holds (a scaled `Int64`).
    public static let maxPrecision = 18
    /// 10^18: every stored decimal's scaled value is below this in magnitude.
    public static let limit: Int128 = 1_000_000_000_000_000_000

    /// 10^n for n in 0...38, nil beyond.
    public static func power(_ n: Int) -> Int128? {
        guard (0...38).contains(n) else { return nil }
        var p: Int128 = 1
        for _ in 0..<n { p &*= 10 }
        return p
    }

    /// `value × 10^n`, nil when it overflows 128 bits.
    public static func scaled(_ value: Int128, by n: Int) -> Int128? {
        guard let p = power(n) else { return nil }
        let (r, o) = value.multipliedReportingOverflow(by: p)
        return o ? nil : r
    }

    /// `x / y` rounded half away from zero (as PostgreSQL's numeric); `y` must not be zero.
    public static func divide(_ x: Int128, _ y: Int128) -> Int128 {
        let (q, r) = x.quotientAndRemainder(dividingBy: y)
        guard r != 0, r.magnitude * 2 >= y.magnitude else { return q }
        return (x < 0) == (y < 0) ? q + 1 : q - 1
    }

    /// The value as a stored decimal, nil when it has more than 18 digits.
    public static func narrow(_ x: Int128) -> Int64? {
        x.magnitude < limit.magnitude ? Int64(x) : nil
    }

    /// A stored decimal's scaled value moved from scale `from` to scale `to` (rounding half away from zero when
    /// it loses digits), nil when it does not fit.
    public static func rescale(_ value: Int64, from: Int, to: Int) -> Int64? {
        if to >= from { return scaled(Int128(value), by: to - from).flatMap(narrow) }
        guard let p = power(from - to) else { return 0 }
        return narrow(divide(Int128(value), p))
    }
}

extension DataType {
    /// The scale of a decimal type, 0 for int64 (an integer is a decimal without fraction), nil otherwise.
    public var decimalScale: Int? {
        switch self {
        case let .decimal(_, scale): scale
        case .int64: 0
        default: nil
        }
    }
}

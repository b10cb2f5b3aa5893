/// Exact fixed-point arithmetic on decimals stored as scaled integers (64-bit up to 18 digits, 128-bit up to 38):
/// sums, products and quotients are computed in 128 bits without rounding noise and checked against the 38 digits
/// a decimal holds.
public enum ExactDecimal {
    /// The most digits a decimal holds (a scaled `Int128`).
    public static let maxPrecision = 38
    /// 10^38: every decimal's scaled value is below this in magnitude.
    public static let limit: Int128 = 100_000_000_000_000_000_000_000_000_000_000_000_000
    /// The most digits a decimal stored in 64 bits holds.
    public static let narrowPrecision = 18

    /// 10^n for n in 0...38, nil beyond.
    @inline(__always)
    public static func power(_ n: Int) -> Int128? {
        n >= 0 && n <= 38 ? powers[n] : nil
    }

    /// 10^0 … 10^38.
    private static let powers: [Int128] = (0...38).map { n in (0..<n).reduce(Int128(1)) { p, _ in p * 10 } }

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

    /// The value when it has at most `precision` digits, else nil.
    public static func fitting(_ x: Int128, precision: Int) -> Int128? {
        x.magnitude < (power(min(precision, maxPrecision)) ?? limit).magnitude ? x : nil
    }

    /// A scaled value moved from scale `from` to scale `to` (rounding half away from zero when it loses digits), nil
    /// when it does not fit in 38 digits.
    public static func rescale(_ value: Int128, from: Int, to: Int) -> Int128? {
        if to >= from { return scaled(value, by: to - from).flatMap { fitting($0, precision: maxPrecision) } }
        guard let p = power(from - to) else { return 0 }
        return divide(value, p)
    }

    /// The exact mean of `count` values whose scaled sum at scale `from` is `sum`, at scale `to` (rounded half away
    /// from zero); nil when the sum at that scale passes 128 bits.
    public static func average(sum: Int128, count: Int64, from: Int, to: Int) -> Int128? {
        scaled(sum, by: to - from).map { divide($0, Int128(count)) }
    }

    /// The precision of a decimal holding `value`'s digits (at least `scale + 1`, at most 38).
    public static func precision(of value: Int128, scale: Int) -> Int {
        var digits = 1, rest = value.magnitude
        while rest >= 10 { rest /= 10; digits += 1 }
        return min(max(digits, scale + 1), maxPrecision)
    }

    /// The decimal type a value of `integerDigits` integer digits and `scale` fraction digits needs (at most 38 digits,
    /// the integer digits giving way when both do not fit).
    public static func type(integerDigits: Int, scale: Int) -> DataType {
        let scale = min(max(scale, 0), maxPrecision)
        return .decimal(precision: max(min(max(integerDigits, 0) + scale, maxPrecision), max(scale, 1)), scale: scale)
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

    /// The integer digits (precision − scale) of a decimal type, 19 for int64, nil otherwise.
    public var decimalIntegerDigits: Int? {
        switch self {
        case let .decimal(precision, scale): precision - scale
        case .int64: 19
        default: nil
        }
    }
}

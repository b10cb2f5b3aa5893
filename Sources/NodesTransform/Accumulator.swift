import Columnar

/// One aggregate's running state for every group, updated a batch at a time.
protocol Accumulator: AnyObject {
    var type: DataType { get }
    /// Folds `column` (nil for count(*)) into the groups given per row by `groups`.
    func update(_ column: Column?, groups: [Int], groupCount: Int) throws(AggregateOverflow)
    func result(_ group: Int) -> Value
}

struct AggregateOverflow: Error {}

/// count(*) and count(x): rows, or non-NULL values.
final class CountAccumulator: Accumulator {
    var counts: [Int64] = []
    var type: DataType { .int64 }

    func update(_ column: Column?, groups: [Int], groupCount: Int) throws(AggregateOverflow) {
        if counts.count < groupCount { counts += [Int64](repeating: 0, count: groupCount - counts.count) }
        if let validity = column?.validity {
            for (i, g) in groups.enumerated() where validity[i] { counts[g] &+= 1 }
        } else {
            for g in groups { counts[g] &+= 1 }
        }
    }

    func result(_ group: Int) -> Value { .int(counts[group]) }
}

/// count(distinct x): keeps the distinct values of each group (memory grows with them).
final class DistinctCountAccumulator: Accumulator {
    var sets: [Set<Value>] = []
    var type: DataType { .int64 }

    func update(_ column: Column?, groups: [Int], groupCount: Int) throws(AggregateOverflow) {
        if sets.count < groupCount { sets += [Set<Value>](repeating: [], count: groupCount - sets.count) }
        guard let column else { return }
        for (i, g) in groups.enumerated() where !column.isNull(i) { sets[g].insert(column.value(at: i)) }
    }

    func result(_ group: Int) -> Value { .int(Int64(sets[group].count)) }
}

/// sum and avg over numbers; integer sums stay exact int64 (overflow fails the node); decimal sums are exact
/// (128-bit, a decimal(38) of the input's scale; past 38 digits the node fails) and their averages divide the exact
/// sum, rounded half away from zero at the larger of the input's scale and 6.
final class SumAccumulator: Accumulator {
    let isAverage: Bool
    let integer: Bool
    let scale: Int?
    var intSums: [Int64] = []
    var decimalSums: [Int128] = []
    var sums: [Double] = []
    var counts: [Int64] = []

    init(input: DataType, isAverage: Bool) {
        self.isAverage = isAverage
        integer = input == .int64 && !isAverage
        if case let .decimal(_, s) = input { scale = s } else { scale = nil }
    }

    var type: DataType {
        if integer { return .int64 }
        if let scale { return .decimal(precision: ExactDecimal.maxPrecision, scale: isAverage ? Self.averageScale(scale) : scale) }
        return .float64
    }

    /// The scale of a decimal average: the input's, and at least 6 (as decimal division).
    static func averageScale(_ scale: Int) -> Int { max(scale, 6) }

    func update(_ column: Column?, groups: [Int], groupCount: Int) throws(AggregateOverflow) {
        if counts.count < groupCount {
            let more = groupCount - counts.count
            counts += [Int64](repeating: 0, count: more)
            sums += [Double](repeating: 0, count: more)
            intSums += [Int64](repeating: 0, count: more)
            if scale != nil { decimalSums += [Int128](repeating: 0, count: more) }
        }
        guard let column else { return }
        let validity = column.validity
        switch column.buffer {
        case let .float64(values):
            for (i, g) in groups.enumerated() where validity?[i] ?? true {
                sums[g] += values[i]
                counts[g] &+= 1
            }
        case let .int64(values):
            for (i, g) in groups.enumerated() where validity?[i] ?? true {
                if integer {
                    let (s, o) = intSums[g].addingReportingOverflow(values[i])
                    if o { throw AggregateOverflow() }
                    intSums[g] = s
                } else if scale != nil {
                    // 2^64 values of 18 digits cannot overflow 128 bits: the bound is checked at the result.
                    decimalSums[g] &+= Int128(values[i])
                } else {
                    sums[g] += Double(values[i])
                }
                counts[g] &+= 1
            }
        case let .int128(values):
            for (i, g) in groups.enumerated() where validity?[i] ?? true {
                let (s, o) = decimalSums[g].addingReportingOverflow(values[i])
                if o { throw AggregateOverflow() }
                decimalSums[g] = s
                counts[g] &+= 1
            }
        default: break
        }
    }

    func result(_ group: Int) -> Value {
        guard counts[group] > 0 else { return .null }
        if integer { return .int(intSums[group]) }
        if let scale {
            let sum = decimalSums[group]
            if isAverage {
                let target = Self.averageScale(scale)
                return ExactDecimal.average(sum: sum, count: counts[group], from: scale, to: target).map { .decimal($0, scale: target) } ?? .null
            }
            // A sum past 38 digits cannot be stored: NULL here, and `overflowed` makes the node fail naming it.
            return ExactDecimal.fitting(sum, precision: ExactDecimal.maxPrecision).map { .decimal($0, scale: scale) } ?? .null
        }
        return .float(isAverage ? sums[group] / Double(counts[group]) : sums[group])
    }

    /// Whether a group's decimal sum has more digits than a decimal holds.
    func overflowed(_ group: Int) -> Bool {
        guard let scale, group < decimalSums.count else { return false }
        if isAverage { return ExactDecimal.scaled(decimalSums[group], by: Self.averageScale(scale) - scale) == nil }
        return ExactDecimal.fitting(decimalSums[group], precision: ExactDecimal.maxPrecision) == nil
    }
}

/// min and max for any ordered type.
final class ExtremumAccumulator: Accumulator {
    let type: DataType
    let isMax: Bool
    var values: [Value] = []

    init(type: DataType, isMax: Bool) {
        self.type = type
        self.isMax = isMax
    }

    func update(_ column: Column?, groups: [Int], groupCount: Int) throws(AggregateOverflow) {
        if values.count < groupCount { values += [Value](repeating: .null, count: groupCount - values.count) }
        guard let column else { return }
        for (i, g) in groups.enumerated() where !column.isNull(i) {
            let v = column.value(at: i)
            if values[g].isNull || (isMax ? Self.less(values[g], v) : Self.less(v, values[g])) { values[g] = v }
        }
    }

    func result(_ group: Int) -> Value { values[group] }

    static func less(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)), let (.date(x), .date(y)), let (.timestamp(x), .timestamp(y)): x < y
        case let (.decimal(x, _), .decimal(y, _)): x < y
        case let (.float(x), .float(y)): x < y
        case let (.bool(x), .bool(y)): !x && y
        case let (.string(x), .string(y)), let (.json(x), .json(y)): Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case let (.bytes(x), .bytes(y)): x.lexicographicallyPrecedes(y)
        default: false
        }
    }
}

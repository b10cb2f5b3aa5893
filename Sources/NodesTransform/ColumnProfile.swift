import Columnar

/// Descriptive statistics of one column, folded batch by batch in bounded memory.
///
/// Distinct values are counted exactly (with their frequencies, for the top values) until `exactLimit` distinct
/// values were seen, then estimated with HyperLogLog (the top values are then counted among the values already
/// held). Numeric columns also get mean and standard deviation (Welford), and percentiles: exact while at
/// most `exactValues` values were seen, then from a t-digest.
struct ColumnProfile {
    let name: String
    let type: DataType
    let exactLimit: Int
    let exactValues: Int

    private(set) var rows = 0
    private(set) var nulls = 0
    private var keys = KeyIndex()
    private var frequencies: [Int] = []
    private var sampleValues: [Value] = []
    private(set) var distinctIsExact = true
    private var sketch = HyperLogLog()
    private(set) var minimum: Value = .null
    private(set) var maximum: Value = .null
    private var numericCount = 0
    private var mean = 0.0
    private var squares = 0.0
    private var values: [Double] = []
    private var digest: TDigest?
    private var scratch: [UInt8] = []
    private let order = RowOrder(keys: [RowOrder.Key(column: 0, descending: false, nullsFirst: false)])

    init(name: String, type: DataType, exactLimit: Int, exactValues: Int = 1_000_000) {
        self.name = name
        self.type = type
        self.exactLimit = exactLimit
        self.exactValues = exactValues
    }

    var isNumeric: Bool { type.isNumeric }

    mutating func add(_ column: Column) {
        let count = column.count
        rows += count
        var lowest: Int?, highest: Int?
        let single = RecordBatch(schema: Schema([SchemaField(name, type)]), columns: [column], count: count)
        for r in 0..<count {
            if column.isNull(r) { nulls += 1; continue }
            scratch.removeAll(keepingCapacity: true)
            RowKey.append(column, r, to: &scratch)
            sketch.add(scratch)
            if distinctIsExact {
                let (index, inserted) = keys.insert(scratch)
                if inserted {
                    frequencies.append(1)
                    sampleValues.append(column.value(at: r))
                    if keys.count > exactLimit { distinctIsExact = false }
                } else {
                    frequencies[index] += 1
                }
            } else if let index = keys.find(scratch) {
                frequencies[index] += 1
            }
            if lowest.map({ order.compare(single, r, single, $0) < 0 }) ?? true { lowest = r }
            if highest.map({ order.compare(single, r, single, $0) > 0 }) ?? true { highest = r }
            if isNumeric, let x = numericValue(column, r), !x.isNaN {
                numericCount += 1
                let delta = x - mean
                mean += delta / Double(numericCount)
                squares += delta * (x - mean)
                if var digest {
                    digest.add(x)
                    self.digest = digest
                } else {
                    values.append(x)
                    if values.count > exactValues {
                        var fresh = TDigest()
                        for v in values { fresh.add(v) }
                        values = []
                        digest = fresh
                    }
                }
            }
        }
        if let lowest { minimum = extreme(minimum, column.value(at: lowest), below: true) }
        if let highest { maximum = extreme(maximum, column.value(at: highest), below: false) }
    }

    private func extreme(_ held: Value, _ candidate: Value, below: Bool) -> Value {
        if held.isNull { return candidate }
        let c = order.compare([candidate], [held])
        return (below ? c < 0 : c > 0) ? candidate : held
    }

    /// Non-NULL values.
    var count: Int { rows - nulls }

    var distinct: Int { distinctIsExact ? keys.count : max(Int(sketch.estimate), keys.count) }

    var average: Double? { numericCount > 0 ? mean : nil }

    /// The sample standard deviation (as SQL's stddev), nil below two values.
    var standardDeviation: Double? { numericCount > 1 ? (squares / Double(numericCount - 1)).squareRoot() : nil }

    /// Whether percentiles come from every value (false once the t-digest took over).
    var percentilesAreExact: Bool { digest == nil }

    /// The continuous percentiles at `fractions`, in order (nil for a column without numbers).
    mutating func percentiles(_ fractions: [Double]) -> [Double?] {
        guard isNumeric, numericCount > 0 else { return fractions.map { _ in nil } }
        if var digest {
            let result = fractions.map { digest.quantile($0) }
            self.digest = digest
            return result
        }
        let sorted = values.sorted()
        return fractions.map { continuousPercentile(sorted, $0) }
    }

    /// The most frequent values, most frequent first (ties by value order), at most `limit`.
    func top(_ limit: Int) -> [(value: Value, count: Int)] {
        guard limit > 0 else { return [] }
        let indices = frequencies.indices.sorted {
            frequencies[$0] != frequencies[$1] ? frequencies[$0] > frequencies[$1] : order.compare([sampleValues[$0]], [sampleValues[$1]]) < 0
        }
        return indices.prefix(limit).map { (sampleValues[$0], frequencies[$0]) }
    }

    /// Counts of values in `bins` equal-width bins between the minimum and the maximum (numeric columns).
    mutating func histogram(bins: Int) -> [Int] {
        guard isNumeric, numericCount > 0, let low = minimum.doubleValue, let high = maximum.doubleValue else { return [] }
        var counts = [Int](repeating: 0, count: bins)
        let width = (high - low) / Double(bins)
        func bin(_ x: Double) -> Int { width > 0 ? min(bins - 1, max(0, Int((x - low) / width))) : 0 }
        if var digest {
            digest.merge()
            for (m, w) in zip(digest.means, digest.weights) { counts[bin(m)] += Int(w.rounded()) }
            self.digest = digest
        } else {
            for x in values { counts[bin(x)] += 1 }
        }
        return counts
    }
}

import Columnar

/// Sort keys of many rows encoded as fixed-width words that compare as unsigned integers in exactly the order
/// `RowOrder` defines (NULL placement, DESC, NaN above every number, text by bytes), so sorting compares plain
/// integers instead of dispatching on column types per comparison.
///
/// Each key takes one word (a NULL-placement word before it when the column has NULLs, or always with
/// `alwaysNullWords`). A text key holds its first 8 bytes, and a wide (38-digit) decimal its upper 64 bits, and
/// either ends the encoding (later keys are not encoded): when two rows' words are equal and `isExact` is false, the
/// full `RowOrder` comparison decides.
struct NormalizedKeys {
    /// Words per row.
    let width: Int
    /// Row-major: the words of row `r` are `words[r * width ..< (r + 1) * width]`.
    private(set) var words: [UInt64]
    /// False when some key is text (equal words may still differ beyond the first 8 bytes).
    let isExact: Bool

    /// Encodes the keys of every row of `batch` under `order`.
    init(_ batch: RecordBatch, order: RowOrder, alwaysNullWords: Bool = false) {
        // Keys after the first text key are not encoded: a text prefix that ties leaves the order to RowOrder,
        // which then compares the rest of that text before any later key.
        let isText = { (key: RowOrder.Key) -> Bool in
            switch batch.columns[key.column].buffer {
            case .bytes, .int128: true
            default: false
            }
        }
        let encoded = order.keys.firstIndex(where: isText).map { Array(order.keys[...$0]) } ?? order.keys
        let plan = encoded.map { key in (key: key, nullWord: alwaysNullWords || batch.columns[key.column].validity != nil) }
        width = plan.reduce(0) { $0 + ($1.nullWord ? 2 : 1) }
        isExact = !order.keys.contains(where: isText)
        let n = batch.count, width = width
        words = [UInt64](repeating: 0, count: n * width)
        words.withUnsafeMutableBufferPointer { out in
            var offset = 0
            for (key, nullWord) in plan {
                let column = batch.columns[key.column]
                let flip: UInt64 = key.descending ? ~0 : 0
                let valueOffset = nullWord ? offset + 1 : offset
                if nullWord {
                    // NULLs first: NULL 0, value 1; NULLs last: value 0, NULL 1 (the value word of a NULL stays 0).
                    for r in 0..<n { out[r * width + offset] = column.isNull(r) == key.nullsFirst ? 0 : 1 }
                }
                let valid = column.validity
                switch column.buffer {
                case let .int64(values):
                    values.withUnsafeBufferPointer { v in
                        for r in 0..<n where valid?[r] ?? true { out[r * width + valueOffset] = (UInt64(bitPattern: v[r]) ^ (1 << 63)) ^ flip }
                    }
                case let .int128(values):
                    values.withUnsafeBufferPointer { v in
                        for r in 0..<n where valid?[r] ?? true {
                            out[r * width + valueOffset] = (UInt64(bitPattern: Int64(truncatingIfNeeded: v[r] >> 64)) ^ (1 << 63)) ^ flip
                        }
                    }
                case let .float64(values):
                    values.withUnsafeBufferPointer { v in
                        for r in 0..<n where valid?[r] ?? true { out[r * width + valueOffset] = Self.encode(v[r]) ^ flip }
                    }
                case let .bool(values):
                    for r in 0..<n where valid?[r] ?? true { out[r * width + valueOffset] = (values[r] ? 1 : 0) ^ flip }
                case let .bytes(buffer):
                    buffer.offsets.withUnsafeBufferPointer { offsets in
                        buffer.data.withUnsafeBufferPointer { data in
                            for r in 0..<n where valid?[r] ?? true {
                                let start = offsets[r], length = min(8, offsets[r + 1] - start)
                                var w: UInt64 = 0
                                for i in 0..<length { w |= UInt64(data[start + i]) << UInt64(56 - 8 * i) }
                                out[r * width + valueOffset] = w ^ flip
                            }
                        }
                    }
                }
                offset += nullWord ? 2 : 1
            }
        }
    }

    /// A double as a word in numeric order: negative numbers below positive ones, -0 equal to 0, NaN above all.
    @inline(__always)
    static func encode(_ d: Double) -> UInt64 {
        if d.isNaN { return .max }
        let bits = (d == 0 ? 0.0 : d).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    /// Compares row `a` of these keys with row `b` of `other` (same layout): negative, zero or positive.
    @inline(__always)
    static func compare(_ x: UnsafeBufferPointer<UInt64>, _ a: Int, _ y: UnsafeBufferPointer<UInt64>, _ b: Int, width: Int) -> Int {
        var i = a * width, j = b * width
        for _ in 0..<width {
            let u = x[i], v = y[j]
            if u != v { return u < v ? -1 : 1 }
            i += 1
            j += 1
        }
        return 0
    }

    /// The row numbers of `batch` in `order` (stable: equal keys keep their input order).
    static func sortedRows(_ batch: RecordBatch, order: RowOrder) -> [Int32] {
        let keys = NormalizedKeys(batch, order: order)
        let n = batch.count, width = keys.width
        var rows = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = Int32(i) }
            count = n
        }
        keys.words.withUnsafeBufferPointer { w in
            if keys.isExact, (1...2).contains(width), n >= radixThreshold {
                // One or two words decide the order: a radix sort of (high, low, row), stable as the rows come.
                var triples = [(UInt64, UInt64, Int32)](unsafeUninitializedCapacity: n) { buf, count in
                    for i in 0..<n { buf[i] = width == 1 ? (0, w[i], Int32(i)) : (w[2 * i], w[2 * i + 1], Int32(i)) }
                    count = n
                }
                radixSort(&triples)
                for i in 0..<n { rows[i] = triples[i].2 }
                return
            }
            if width == 1 {
                // One numeric key: sort (key, row) pairs, which also makes ties stable.
                var pairs = [(UInt64, Int32)](unsafeUninitializedCapacity: n) { buf, count in
                    for i in 0..<n { buf[i] = (w[i], Int32(i)) }
                    count = n
                }
                if keys.isExact {
                    pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                } else {
                    pairs.sort { x, y in
                        if x.0 != y.0 { return x.0 < y.0 }
                        let c = order.compare(batch, Int(x.1), batch, Int(y.1))
                        return c != 0 ? c < 0 : x.1 < y.1
                    }
                }
                for i in 0..<n { rows[i] = pairs[i].1 }
                return
            }
            if width == 2 {
                var triples = [(UInt64, UInt64, Int32)](unsafeUninitializedCapacity: n) { buf, count in
                    for i in 0..<n { buf[i] = (w[2 * i], w[2 * i + 1], Int32(i)) }
                    count = n
                }
                triples.sort { x, y in
                    if x.0 != y.0 { return x.0 < y.0 }
                    if x.1 != y.1 { return x.1 < y.1 }
                    let c = order.compare(batch, Int(x.2), batch, Int(y.2))
                    return c != 0 ? c < 0 : x.2 < y.2
                }
                for i in 0..<n { rows[i] = triples[i].2 }
                return
            }
            rows.sort { a, b in
                let c = compare(w, Int(a), w, Int(b), width: width)
                if c != 0 { return c < 0 }
                if !keys.isExact {
                    let full = order.compare(batch, Int(a), batch, Int(b))
                    if full != 0 { return full < 0 }
                }
                return a < b
            }
        }
        return rows
    }

    /// Rows from which a radix sort beats comparing (below, its 256-entry histograms cost more than they save).
    static let radixThreshold = 1_024

    /// Sorts (high, low, row) by high, then low, keeping the given order of ties: a least-significant-digit radix
    /// sort with one counting pass per byte that differs among the keys (keys from a narrow range, as ids and
    /// timestamps, take few passes).
    static func radixSort(_ items: inout [(UInt64, UInt64, Int32)]) {
        let n = items.count
        guard n > 1 else { return }
        var orHigh: UInt64 = 0, andHigh: UInt64 = ~0, orLow: UInt64 = 0, andLow: UInt64 = ~0
        for item in items {
            orHigh |= item.0
            andHigh &= item.0
            orLow |= item.1
            andLow &= item.1
        }
        var passes: [(high: Bool, shift: UInt64)] = []
        for shift in stride(from: UInt64(0), to: 64, by: 8) where ((orLow ^ andLow) >> shift) & 0xFF != 0 { passes.append((false, shift)) }
        for shift in stride(from: UInt64(0), to: 64, by: 8) where ((orHigh ^ andHigh) >> shift) & 0xFF != 0 { passes.append((true, shift)) }
        guard !passes.isEmpty else { return }
        var scratch = [(UInt64, UInt64, Int32)](repeating: (0, 0, 0), count: n)
        var counts = [Int](repeating: 0, count: 256)
        items.withUnsafeMutableBufferPointer { a in
            scratch.withUnsafeMutableBufferPointer { b in
                counts.withUnsafeMutableBufferPointer { counts in
                    var source = a, target = b
                    for pass in passes {
                        for i in 0..<256 { counts[i] = 0 }
                        let shift = pass.shift
                        if pass.high {
                            for item in source { counts[Int((item.0 >> shift) & 0xFF)] += 1 }
                        } else {
                            for item in source { counts[Int((item.1 >> shift) & 0xFF)] += 1 }
                        }
                        var total = 0
                        for i in 0..<256 {
                            let c = counts[i]
                            counts[i] = total
                            total += c
                        }
                        for item in source {
                            let digit = Int(((pass.high ? item.0 : item.1) >> shift) & 0xFF)
                            target[counts[digit]] = item
                            counts[digit] += 1
                        }
                        swap(&source, &target)
                    }
                    if passes.count % 2 == 1 { _ = a.update(fromContentsOf: b) }
                }
            }
        }
    }
}

import Columnar
import Expressions
import NodeKit

/// The run of a `window` node: sorts the input by partition and order, collects one partition at a time and adds
/// the window columns to it.
struct WindowWork: NodeWork {
    let sort: ExternalSort
    let partition: [Int]
    let order: RowOrder
    let functions: [PlannedWindowFunction]
    let output: Schema

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        var pending: [RecordBatch] = []   // the current partition's rows so far
        var lastKey: [UInt8]?
        var scratch: [UInt8] = []
        var partitions = 0
        var failedRows = 0
        func flush() async throws {
            guard !pending.isEmpty else { return }
            let rows = pending.count == 1 ? pending[0] : RecordBatch.concatenated(pending)
            pending = []
            partitions += 1
            let (batch, failures) = compute(rows)
            failedRows += failures
            var start = 0
            while start < batch.count {
                let end = min(batch.count, start + 65_536)
                try await context.emit(start == 0 && end == batch.count ? batch : batch.slice(start..<end), on: "out")
                start = end
            }
        }
        try await sort.sort(context.input("in"), context) { batch in
            var start = 0
            for r in 0..<batch.count {
                scratch.removeAll(keepingCapacity: true)
                for column in partition { RowKey.append(batch.columns[column], r, to: &scratch) }
                if let lastKey, lastKey != scratch {
                    if r > start { pending.append(batch.slice(start..<r)) }
                    start = r
                    try await flush()
                }
                lastKey = scratch
            }
            if start < batch.count { pending.append(start == 0 ? batch : batch.slice(start..<batch.count)) }
        }
        try await flush()
        context.log(.info, "window: \(partitions) partition(s)" + (failedRows > 0 ? "; \(failedRows) value(s) could not be computed and are NULL" : ""))
        return nil
    }

    /// The partition with the window columns added, and how many argument values failed to evaluate (NULL instead).
    func compute(_ rows: RecordBatch) -> (RecordBatch, Int) {
        let n = rows.count
        // peerEnd[i]: the last row of i's peer group (rows with equal order keys); without orderBy all rows are peers.
        var peerEnd = [Int](repeating: n - 1, count: n)
        var peerStart = [Int](repeating: 0, count: n)
        var denseRank = [Int](repeating: 1, count: n)
        if !order.keys.isEmpty && n > 0 {
            var groupStart = 0, group = 1
            for i in 0..<n {
                if i > 0 && order.compare(rows, i - 1, rows, i) != 0 { groupStart = i; group += 1 }
                peerStart[i] = groupStart
                denseRank[i] = group
            }
            var end = n - 1
            for i in stride(from: n - 1, through: 0, by: -1) {
                if i < n - 1 && peerStart[i] != peerStart[i + 1] { end = i }
                peerEnd[i] = end
            }
        }
        var failures = 0
        var columns = rows.columns
        for planned in functions {
            let function = planned.function
            var argument: Column?
            if let bound = planned.argument {
                let result = bound.evaluate(rows)
                failures += result.rowErrors.count
                argument = result.rowErrors.isEmpty ? result.column : result.column.nulling(Set(result.rowErrors.keys))
            }
            func frame(_ i: Int) -> (lo: Int, hi: Int) {
                switch function.frame {
                case .defaultRange: return (0, peerEnd[i])
                case let .rows(preceding): return (preceding.map { max(0, i - $0) } ?? 0, i)
                }
            }
            var builder = ColumnBuilder(type: planned.type, capacity: n)
            switch function.kind {
            case .rowNumber: for i in 0..<n { builder.appendInt64(Int64(i + 1)) }
            case .rank: for i in 0..<n { builder.appendInt64(Int64(peerStart[i] + 1)) }
            case .denseRank: for i in 0..<n { builder.appendInt64(Int64(denseRank[i])) }
            case .lag, .lead:
                let column = argument!
                for i in 0..<n {
                    let j = function.kind == .lag ? i - function.offset : i + function.offset
                    if j >= 0 && j < n { builder.append(from: column, j) } else if let value = function.defaultValue { builder.append(value) } else { builder.appendNull() }
                }
            case .firstValue: for i in 0..<n { builder.append(from: argument!, frame(i).lo) }
            case .lastValue: for i in 0..<n { builder.append(from: argument!, frame(i).hi) }
            case .count:
                let column = argument
                var valid = [Int](repeating: 0, count: n + 1)   // prefix counts of non-NULL values
                for i in 0..<n { valid[i + 1] = valid[i] + (column.map { $0.isNull(i) ? 0 : 1 } ?? 1) }
                for i in 0..<n {
                    let (lo, hi) = frame(i)
                    builder.appendInt64(Int64(valid[hi + 1] - valid[lo]))
                }
            case .sum, .avg:
                let column = argument!
                let exactInts = planned.type == .int64
                let exactDecimals = column.type.decimalScale != nil && column.type != .int64
                for i in 0..<n {
                    let (lo, hi) = frame(i)
                    var intTotal: Int64 = 0, total = 0.0, count = 0, overflow = false
                    var decimalTotal: Int128 = 0
                    for k in lo...hi where !column.isNull(k) {
                        count += 1
                        if exactDecimals {
                            decimalTotal &+= Int128(column.int64Values[k])
                        } else if exactInts {
                            let (sum, over) = intTotal.addingReportingOverflow(column.int64Values[k])
                            intTotal = sum
                            overflow = overflow || over
                        } else {
                            total += column.value(at: k).doubleValue ?? 0
                        }
                    }
                    if count == 0 || overflow { builder.appendNull(); continue }
                    if exactDecimals {
                        // The sum exactly (NULL past 18 digits); the average from the exact sum.
                        let scale = column.type.decimalScale!
                        if function.kind == .avg { builder.appendDouble(Double(decimalTotal) / pow10(scale) / Double(count)) }
                        else if let stored = ExactDecimal.narrow(decimalTotal) { builder.appendInt64(stored) } else { builder.appendNull() }
                        continue
                    }
                    if function.kind == .avg { builder.appendDouble(total / Double(count)) } else if exactInts { builder.appendInt64(intTotal) } else { builder.appendDouble(total) }
                }
            case .min, .max:
                let column = argument!
                let single = RowOrder(keys: [RowOrder.Key(column: 0, descending: function.kind == .max, nullsFirst: false)])
                let values = RecordBatch(schema: Schema([SchemaField("v", column.type)]), columns: [column], count: n)
                var best = -1, scanned = -1
                for i in 0..<n {
                    let (lo, hi) = frame(i)
                    if lo == 0 {
                        // A running frame only grows: extend the best so far over the new rows.
                        if scanned < hi {
                            for k in (scanned + 1)...hi where !column.isNull(k) && (best < 0 || single.compare(values, k, values, best) < 0) { best = k }
                            scanned = hi
                        }
                        if best < 0 { builder.appendNull() } else { builder.append(from: column, best) }
                    } else {
                        var sliding = -1
                        for k in lo...hi where !column.isNull(k) && (sliding < 0 || single.compare(values, k, values, sliding) < 0) { sliding = k }
                        if sliding < 0 { builder.appendNull() } else { builder.append(from: column, sliding) }
                    }
                }
            }
            columns.append(builder.finish())
        }
        return (RecordBatch(schema: output, columns: columns, count: n), failures)
    }
}

extension Column {
    /// This column with the given rows set to NULL.
    func nulling(_ rows: Set<Int>) -> Column {
        var builder = ColumnBuilder(type: type, capacity: count)
        for i in 0..<count { if rows.contains(i) { builder.appendNull() } else { builder.append(from: self, i) } }
        return builder.finish()
    }
}

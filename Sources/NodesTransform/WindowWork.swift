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
        // Sorted rows arrive in batches; a block is processed up to the start of its last partition, which may
        // continue in the next batch (its rows wait in `carry`, concatenated once a later partition begins).
        var carry: [RecordBatch] = []
        var partitions = 0
        var failedRows = 0
        let partitionOrder = RowOrder(keys: partition.map { RowOrder.Key(column: $0, descending: false, nullsFirst: true) })
        func process(_ block: RecordBatch, starts: [Int]) async throws {
            partitions += starts.count
            let (batch, failures) = compute(block, partitionStarts: starts)
            failedRows += failures
            var start = 0
            while start < batch.count {
                let end = min(batch.count, start + 65_536)
                try await context.emit(start == 0 && end == batch.count ? batch : batch.slice(start..<end), on: "out")
                start = end
            }
        }
        /// The rows of `batch` where a new partition starts (row 0 unless it continues `previous`'s last partition).
        func boundaries(_ batch: RecordBatch, after previous: RecordBatch?) -> [Int] {
            var starts: [Int] = []
            if let previous, previous.count > 0 {
                if partitionOrder.compare(previous, previous.count - 1, batch, 0) != 0 { starts.append(0) }
            } else {
                starts.append(0)
            }
            if !partition.isEmpty {
                let changes = RowChanges.differs(batch, columns: partition)
                for r in stride(from: 1, to: batch.count, by: 1) where changes[r] { starts.append(r) }
            }
            return starts
        }
        try await sort.sort(context.input("in"), context) { batch, endsPartition in
            let starts = boundaries(batch, after: carry.last)
            if endsPartition {
                // Every partition in this batch is complete: no copies when nothing was carried.
                let block = carry.isEmpty ? batch : RecordBatch.concatenated(carry + [batch])
                let offset = block.count - batch.count
                let blockStarts = (carry.isEmpty ? [] : [0]) + starts.map { $0 + offset }
                carry = []
                try await process(block, starts: blockStarts.isEmpty ? [0] : blockStarts)
                return
            }
            guard let last = starts.last else {
                carry.append(batch)   // the open partition goes on
                return
            }
            // Everything before the last start is complete: the carried rows plus this batch up to there.
            let head = last > 0 ? batch.slice(0..<last) : nil
            let blockParts = carry + (head.map { [$0] } ?? [])
            if !blockParts.isEmpty {
                let block = RecordBatch.concatenated(blockParts)
                let offset = carry.reduce(0) { $0 + $1.count }
                let blockStarts = (carry.isEmpty ? [] : [0]) + starts.dropLast().map { $0 + offset }
                try await process(block, starts: blockStarts.isEmpty ? [0] : blockStarts)
            }
            carry = [last > 0 ? batch.slice(last..<batch.count) : batch]
        }
        if !carry.isEmpty {
            let block = RecordBatch.concatenated(carry)
            if block.count > 0 { try await process(block, starts: [0]) }
        }
        context.log(.info, "window: \(partitions) partition(s)" + (failedRows > 0 ? "; \(failedRows) value(s) could not be computed and are NULL" : ""))
        return nil
    }

    /// The block's rows with the window columns added (each partition, starting at `partitionStarts`, computed on
    /// its own), and how many argument values failed to evaluate (NULL instead).
    func compute(_ rows: RecordBatch, partitionStarts: [Int]) -> (RecordBatch, Int) {
        let n = rows.count
        // partStart[i], partEnd[i]: the first and last row of i's partition.
        var partStart = [Int](repeating: 0, count: n), partEnd = [Int](repeating: n - 1, count: n)
        for (p, start) in partitionStarts.enumerated() {
            let end = p + 1 < partitionStarts.count ? partitionStarts[p + 1] : n
            for i in start..<end { partStart[i] = start; partEnd[i] = end - 1 }
        }
        // peerStart/peerEnd: the first and last row of i's peer group (equal order keys) within its partition; without
        // orderBy a whole partition is one peer group.
        var peerStart = partStart, peerEnd = partEnd
        var denseRank = [Int](repeating: 1, count: n)
        if !order.keys.isEmpty && n > 0 {
            let changes = RowChanges.differs(rows, columns: order.keys.map(\.column))
            var groupStart = 0, group = 1
            for i in 0..<n {
                if i == partStart[i] { groupStart = i; group = 1 } else if changes[i] { groupStart = i; group += 1 }
                peerStart[i] = groupStart
                denseRank[i] = group
            }
            var end = n - 1
            for i in stride(from: n - 1, through: 0, by: -1) {
                if i == partEnd[i] || peerStart[i] != peerStart[i + 1] { end = i }
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
                case .defaultRange: return (partStart[i], peerEnd[i])
                case let .rows(preceding): return (preceding.map { max(partStart[i], i - $0) } ?? partStart[i], i)
                }
            }
            var builder = ColumnBuilder(type: planned.type, capacity: n)
            switch function.kind {
            case .rowNumber: for i in 0..<n { builder.appendInt64(Int64(i - partStart[i] + 1)) }
            case .rank: for i in 0..<n { builder.appendInt64(Int64(peerStart[i] - partStart[i] + 1)) }
            case .denseRank: for i in 0..<n { builder.appendInt64(Int64(denseRank[i])) }
            case .lag, .lead:
                let column = argument!
                for i in 0..<n {
                    let j = function.kind == .lag ? i - function.offset : i + function.offset
                    if j >= partStart[i] && j <= partEnd[i] { builder.append(from: column, j) } else if let value = function.defaultValue { builder.append(value) } else { builder.appendNull() }
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
                appendSums(&builder, argument!, function: function, type: planned.type, frame: frame, partStart: partStart, n: n)
            case .min, .max:
                let column = argument!
                let single = RowOrder(keys: [RowOrder.Key(column: 0, descending: function.kind == .max, nullsFirst: false)])
                let values = RecordBatch(schema: Schema([SchemaField("v", column.type)]), columns: [column], count: n)
                var best = -1, scanned = -1
                for i in 0..<n {
                    let (lo, hi) = frame(i)
                    if i == partStart[i] { best = -1; scanned = lo - 1 }
                    if lo == partStart[i] {
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

    /// sum and avg over each row's frame in linear time: running totals per partition (128-bit for integers and
    /// decimals, so exact), a frame's total the difference of two running totals (floats: summed over the frame,
    /// which a ROWS frame bounds).
    private func appendSums(_ builder: inout ColumnBuilder, _ column: Column, function: WindowFunction, type: DataType,
                            frame: (Int) -> (lo: Int, hi: Int), partStart: [Int], n: Int) {
        let exact = column.type.decimalScale != nil   // int64 (scale 0) and decimals
        var counts = [Int](repeating: 0, count: n + 1)
        var exactTotals = [Int128](repeating: 0, count: exact ? n + 1 : 0)
        var floatTotals = [Double](repeating: 0, count: exact ? 0 : n + 1)
        let ints = exact ? column.exactValues : []
        for i in 0..<n {
            // Running totals restart at each partition: totals[i + 1] covers partStart[i]…i.
            let restart = i == partStart[i]
            let valid = !column.isNull(i)
            counts[i + 1] = (restart ? 0 : counts[i]) + (valid ? 1 : 0)
            // Totals of 38-digit values can pass 128 bits only after 2^64 rows: wrapping is checked at the result.
            if exact { exactTotals[i + 1] = (restart ? 0 : exactTotals[i]) &+ (valid ? ints[i] : 0) }
            else { floatTotals[i + 1] = (restart ? 0 : floatTotals[i]) + (valid ? numericValue(column, i) ?? 0 : 0) }
        }
        for i in 0..<n {
            let (lo, hi) = frame(i)
            let fromStart = lo == partStart[i]
            let count = counts[hi + 1] - (fromStart ? 0 : counts[lo])
            if count == 0 { builder.appendNull(); continue }
            if exact {
                let total = exactTotals[hi + 1] &- (fromStart ? 0 : exactTotals[lo])
                let scale = column.type.decimalScale!
                if function.kind == .avg, case let .decimal(_, target) = type {
                    if let mean = ExactDecimal.average(sum: total, count: Int64(count), from: scale, to: target) { builder.appendExact(mean) } else { builder.appendNull() }
                } else if function.kind == .avg {
                    builder.appendDouble(Double(total) / pow10(scale) / Double(count))
                } else if type == .int64 {
                    if total >= Int128(Int64.min) && total <= Int128(Int64.max) { builder.appendInt64(Int64(total)) } else { builder.appendNull() }
                } else if let stored = ExactDecimal.fitting(total, precision: ExactDecimal.maxPrecision) {
                    builder.appendExact(stored)
                } else {
                    builder.appendNull()   // past the 38 digits of a decimal
                }
            } else {
                var total = floatTotals[hi + 1]
                if !fromStart {
                    total = 0
                    for k in lo...hi where !column.isNull(k) { total += numericValue(column, k) ?? 0 }
                }
                builder.appendDouble(function.kind == .avg ? total / Double(count) : total)
            }
        }
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

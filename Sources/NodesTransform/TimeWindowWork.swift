import Columnar
import Expressions
import NodeKit

/// The run of a `window` node with `tumbling` or `sliding`: one output row per partition and window of event time,
/// with the aggregates over the rows in it.
///
/// When a state store downstream commits this node's state (an incremental pipeline into a database), windows
/// still open at the end of the input (ending after the newest event time seen) are not emitted: they are saved
/// in the state and continue in the next run, so a stream that arrives run by run yields the same windows as one
/// run over all of it. Rows for windows an earlier run already emitted are rejected (`late_row`). Without a state
/// store, every window is emitted at the end.
struct TimeWindowWork: NodeWork {
    let time: Int
    let timeName: String
    let timeIsDate: Bool
    let window: TimeWindow
    let partition: [Int]
    let aggregates: [PlannedWindowFunction]
    let output: Schema

    /// Compares single values for min and max (one instance, not one per row).
    static let valueOrder = RowOrder(keys: [RowOrder.Key(column: 0, descending: false, nullsFirst: false)])

    /// The running aggregates of one window.
    struct Cell {
        var key: [Value]
        var start: Int64
        var counts: [Int64]
        var exact: [Int128]
        var floats: [Double]
        var extremes: [Value]
    }

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        let keepsState = context.hasStateStore
        let restored = keepsState ? try await context.committedState().compactMap(TimeWindowState.parse).first : nil
        let previousWatermark = restored?.watermark
        var index = KeyIndex()
        var cells: [Cell] = []
        var scratch: [UInt8] = []
        var keyScratch: [UInt8] = []
        let empty = Cell(key: [], start: 0, counts: Array(repeating: 0, count: aggregates.count), exact: Array(repeating: 0, count: aggregates.count),
                         floats: Array(repeating: 0, count: aggregates.count), extremes: Array(repeating: .null, count: aggregates.count))
        for saved in restored?.windows ?? [] {
            var cell = empty
            cell.key = saved.key.map(\.value)
            cell.start = saved.start
            for k in aggregates.indices where k < saved.counts.count {
                cell.counts[k] = saved.counts[k]
                cell.exact[k] = Int128(saved.exact[k]) ?? 0
                cell.floats[k] = saved.floats[k]
                cell.extremes[k] = saved.extremes[k].value
            }
            keyScratch = Self.keyBytes(cell.key, types: partition.indices.map { output.fields[$0].type }, start: cell.start)
            if index.insert(keyScratch).inserted { cells.append(cell) }
        }
        var newest = previousWatermark
        var row = 0
        for try await batch in context.input("in") {
            defer { row += batch.count }
            let times = batch.columns[time]
            let arguments = aggregates.map { $0.argument?.evaluate(batch) }
            var rejected: [RejectedRecord] = []
            for r in 0..<batch.count {
                guard !times.isNull(r) else {
                    rejected.append(reject(batch, r, row + r, code: "null_time", "the time column '\(timeName)' is NULL: the row belongs to no window"))
                    continue
                }
                let t = timeIsDate ? times.int64Values[r] * CivilTime.microsPerDay : times.int64Values[r]
                var failed = false
                for (k, argument) in arguments.enumerated() {
                    if let error = argument?.rowErrors[r] {
                        rejected.append(RejectedRecord.rows(of: batch, errors: [r: error], field: "aggregates.\(aggregates[k].function.name)", firstRow: row)[0])
                        failed = true
                        break
                    }
                }
                if failed { continue }
                scratch.removeAll(keepingCapacity: true)
                for column in partition { RowKey.append(batch.columns[column], r, to: &scratch) }
                var placed = false
                for start in window.starts(of: t) {
                    if let previousWatermark, start + window.size <= previousWatermark { continue }
                    keyScratch = scratch
                    withUnsafeBytes(of: start.bigEndian) { keyScratch.append(contentsOf: $0) }
                    let (g, isNew) = index.insert(keyScratch)
                    if isNew {
                        var cell = empty
                        cell.key = partition.map { batch.columns[$0].value(at: r) }
                        cell.start = start
                        cells.append(cell)
                    }
                    for (k, argument) in arguments.enumerated() { fold(&cells[g], k, argument?.column, r) }
                    placed = true
                }
                guard placed else {
                    rejected.append(reject(batch, r, row + r, code: "late_row",
                                           "event time \(Value.timestamp(t)) is before \(Value.timestamp(previousWatermark ?? 0)), whose windows an earlier run already emitted"))
                    continue
                }
                newest = max(newest ?? t, t)
            }
            if !rejected.isEmpty { try await context.reject(rejected) }
        }
        // Windows that ended by the newest time seen are complete; with state, the rest wait for the next run.
        var emitted: [Int] = [], open: [Int] = []
        for (g, cell) in cells.enumerated() {
            if !keepsState || newest.map({ cell.start + window.size <= $0 }) == true { emitted.append(g) } else { open.append(g) }
        }
        let order = RowOrder(keys: partition.indices.map { RowOrder.Key(column: $0, descending: false, nullsFirst: true) })
        emitted.sort { a, b in
            let c = order.compare(cells[a].key, cells[b].key)
            return c != 0 ? c < 0 : cells[a].start < cells[b].start
        }
        var start = 0
        while start < emitted.count {
            let end = min(emitted.count, start + 65_536)
            try await context.emit(batch(emitted[start..<end].map { cells[$0] }), on: "out")
            start = end
        }
        if keepsState {
            let state = TimeWindowState(watermark: newest, windows: open.map { g in
                let cell = cells[g]
                return .init(key: cell.key.map(SavedValue.init), start: cell.start, counts: cell.counts, exact: cell.exact.map { String($0) },
                             floats: cell.floats, extremes: cell.extremes.map(SavedValue.init))
            })
            context.publishState(state.json())
        }
        context.log(.info, "window: \(emitted.count) window(s) emitted" + (keepsState ? ", \(open.count) still open (kept for the next run)" : ""))
        return nil
    }

    private func reject(_ batch: RecordBatch, _ r: Int, _ streamRow: Int, code: String, _ message: String) -> RejectedRecord {
        RejectedRecord(code: code, message: message, field: "time", row: streamRow, of: batch, r)
    }

    /// Adds row `r` of `column` to aggregate `k` of `cell`.
    private func fold(_ cell: inout Cell, _ k: Int, _ column: Column?, _ r: Int) {
        guard let column else { cell.counts[k] += 1; return }   // count(*)
        guard !column.isNull(r) else { return }
        cell.counts[k] += 1
        switch aggregates[k].function.kind {
        case .sum, .avg:
            switch column.buffer {
            case let .int64(values) where column.type.decimalScale != nil: cell.exact[k] &+= Int128(values[r])
            case let .int128(values):
                let (sum, overflow) = cell.exact[k].addingReportingOverflow(values[r])
                cell.exact[k] = overflow ? ExactDecimal.limit : sum   // past 38 digits: the result is NULL
            default: cell.floats[k] += numericValue(column, r) ?? 0
            }
        case .min, .max:
            let value = column.value(at: r)
            let held = cell.extremes[k]
            if held.isNull || (aggregates[k].function.kind == .min ? Self.valueOrder.compare([value], [held]) < 0 : Self.valueOrder.compare([value], [held]) > 0) { cell.extremes[k] = value }
        default: break
        }
    }

    /// Output rows for `cells`: partition columns, window_start, window_end, then the aggregates.
    private func batch(_ cells: [Cell]) -> RecordBatch {
        var builders = output.fields.map { ColumnBuilder(type: $0.type, capacity: cells.count) }
        for cell in cells {
            for (i, value) in cell.key.enumerated() { builders[i].append(value) }
            builders[partition.count].appendInt64(cell.start)
            builders[partition.count + 1].appendInt64(cell.start + window.size)
            for (k, aggregate) in aggregates.enumerated() {
                let b = partition.count + 2 + k
                let n = cell.counts[k]
                switch aggregate.function.kind {
                case .count: builders[b].appendInt64(n)
                case .sum where n == 0, .avg where n == 0: builders[b].appendNull()
                case .sum:
                    if case let .decimal(_, scale) = aggregate.type {
                        if let v = ExactDecimal.fitting(cell.exact[k], precision: ExactDecimal.maxPrecision) { builders[b].append(.decimal(v, scale: scale)) } else { builders[b].appendNull() }
                    } else if aggregate.type == .int64 {
                        if cell.exact[k].magnitude <= UInt64(Int64.max) { builders[b].appendInt64(Int64(cell.exact[k])) } else { builders[b].appendNull() }
                    } else {
                        builders[b].appendDouble(cell.floats[k])
                    }
                case .avg:
                    let scale = aggregate.argument?.type.decimalScale
                    if case let .decimal(_, target) = aggregate.type, let scale {
                        if let mean = ExactDecimal.average(sum: cell.exact[k], count: Int64(n), from: scale, to: target) {
                            builders[b].appendExact(mean)
                        } else {
                            builders[b].appendNull()
                        }
                    } else {
                        builders[b].appendDouble(scale.map { Double(cell.exact[k]) / pow10($0) / Double(n) } ?? cell.floats[k] / Double(n))
                    }
                default: builders[b].append(cell.extremes[k])
                }
            }
        }
        return RecordBatch(schema: output, columns: builders.indices.map { builders[$0].finish() }, count: cells.count)
    }

    /// The index key of a restored window: its partition values' key bytes and its start.
    static func keyBytes(_ key: [Value], types: [DataType], start: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        for (value, type) in zip(key, types) {
            var builder = ColumnBuilder(type: type, capacity: 1)
            builder.append(value)
            RowKey.append(builder.finish(), 0, to: &bytes)
        }
        withUnsafeBytes(of: start.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }
}

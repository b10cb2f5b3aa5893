import Columnar
public import NodeKit

/// Keeps one row per key: the first or the last seen, or with `orderBy` the first or last under that order (the
/// newest row per customer: `key: [customer_id], orderBy: ["updated_at DESC"], keep: first`). Without `orderBy`,
/// `keep: first` streams; otherwise the kept rows are held until the input ends (memory grows with the number of
/// distinct keys). Rows come out in the order they arrived. Dropped duplicates are counted in the log, or with
/// `duplicates: reject` rejected (code `duplicate`), so a connected `rejected` port receives them.
public struct DedupeNode: NodeType {
    enum Keep: String, Choice { case first, last }
    enum Duplicates: String, Choice { case drop, reject }

    static let key = Field<[String]>("key", summary: "Columns that identify a row (NULLs are equal to each other here, as in SQL's DISTINCT).", example: "[customer_id, order_date]")
    static let keep = Field<Keep>("keep", summary: "first or last: which of the rows with one key to keep (in input order, or in orderBy's order).", default: .first)
    static let orderBy = Field<[SortKey]>("orderBy", summary: "Decides which row is first: sort keys as in sort (`updated_at DESC`).", default: [])
    static let duplicates = Field<Duplicates>("duplicates", summary: "drop (count them in the log) or reject (keep them in the run's rejects, and send them to the rejected port when it is connected).",
                                              default: .drop)

    public static let spec = NodeSpec(
        id: "dedupe", version: 1, category: .transform, title: "Remove duplicates",
        summary: "Keeps one row per key: the first or last seen, or the first or last under an order.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [key.spec, keep.spec, orderBy.spec, duplicates.spec],
        capabilities: [.rejects], icon: "copy-minus")

    let settings: Settings
    let keyColumns: [String]
    let keepWhich: Keep
    let order: [SortKey]
    let rejectDuplicates: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        keyColumns = try settings[Self.key]
        guard !keyColumns.isEmpty else { throw settings.error(Self.key, "name at least one key column", code: "missing_field") }
        keepWhich = try settings[Self.keep]
        order = try settings[Self.orderBy]
        rejectDuplicates = try settings[Self.duplicates] == .reject
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        var keys: [Int] = []
        for name in keyColumns {
            let index = try settings.column(name, in: input, for: Self.key)
            keys.append(index)
        }
        var orderKeys: [RowOrder.Key] = []
        for key in order {
            let index = try settings.column(key.column, in: input, for: Self.orderBy)
            orderKeys.append(RowOrder.Key(column: index, descending: key.descending, nullsFirst: key.nullsFirst))
        }
        return NodePlan(outputs: ["out": input], work: Work(keys: keys, keepLast: keepWhich == .last, order: orderKeys.isEmpty ? nil : RowOrder(keys: orderKeys), schema: input,
                                                          rejectDuplicates: rejectDuplicates, keyNames: keyColumns))
    }

    struct Work: NodeWork {
        let keys: [Int]
        let keepLast: Bool
        let order: RowOrder?
        let schema: Schema
        let rejectDuplicates: Bool
        let keyNames: [String]

        /// Rejects rows `rows` of `batch` as duplicates (when asked to).
        func reject(_ rows: [Int], of batch: RecordBatch, _ context: any NodeContext) async throws {
            guard rejectDuplicates, !rows.isEmpty else { return }
            try await context.reject(rows.map { r in
                RejectedRecord(code: "duplicate", message: "another row has the same \(keyNames.joined(separator: ", ")) and was kept", field: "key",
                               of: batch, r)
            })
        }

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var seen = KeyIndex()
            var scratch: [UInt8] = []
            var dropped = 0
            if !keepLast && order == nil {
                // The first row of each key goes out as soon as it is seen.
                for try await batch in context.input("in") {
                    var keep = [Bool](repeating: false, count: batch.count)
                    var kept = 0
                    let columns = keys.map { batch.columns[$0] }
                    for r in 0..<batch.count {
                        scratch.removeAll(keepingCapacity: true)
                        for column in columns { RowKey.append(column, r, to: &scratch) }
                        if seen.insert(scratch).inserted { keep[r] = true; kept += 1 } else { dropped += 1 }
                    }
                    if kept > 0 { try await context.emit(kept == batch.count ? batch : batch.filtered(keep), on: "out") }
                    if kept < batch.count { try await reject(keep.indices.filter { !keep[$0] }, of: batch, context) }
                }
                context.log(.info, "dedupe: kept \(seen.count) row(s), dropped \(dropped) duplicate(s)")
                return nil
            }
            // The kept row of each key so far lives in `store`; a better row is appended and the key points at it.
            var store = RowStore(schema: schema)
            var arrival: [Int] = []          // slot → arrival number of the row it holds
            var orderValues: [[Value]] = []  // slot → its orderBy values (with orderBy only)
            var slotOfKey: [Int] = []        // key number → slot
            var arrived = 0
            for try await batch in context.input("in") {
                let columns = keys.map { batch.columns[$0] }
                var notKept: [Int] = []
                for r in 0..<batch.count {
                    defer { arrived += 1 }
                    scratch.removeAll(keepingCapacity: true)
                    for column in columns { RowKey.append(column, r, to: &scratch) }
                    let values = order.map { $0.keys.map { batch.columns[$0.column].value(at: r) } } ?? []
                    let (key, isNew) = seen.insert(scratch)
                    if isNew {
                        slotOfKey.append(store.append(batch, r))
                        arrival.append(arrived)
                        if order != nil { orderValues.append(values) }
                        continue
                    }
                    dropped += 1
                    let replaces: Bool
                    if let order {
                        let c = order.compare(values, orderValues[slotOfKey[key]])
                        replaces = keepLast ? c >= 0 : c < 0
                    } else {
                        replaces = keepLast
                    }
                    if replaces {
                        slotOfKey[key] = store.append(batch, r)
                        arrival.append(arrived)
                        if order != nil { orderValues.append(values) }
                    } else {
                        notKept.append(r)
                    }
                }
                try await reject(notKept, of: batch, context)
                if store.garbage(live: slotOfKey.count) {
                    let all = store.finish()
                    try await reject(superseded(all, live: slotOfKey), of: all, context)
                    store = RowStore(schema: schema)
                    for slot in slotOfKey { _ = store.append(all, slot) }
                    arrival = slotOfKey.map { arrival[$0] }
                    if order != nil { orderValues = slotOfKey.map { orderValues[$0] } }
                    slotOfKey = Array(0..<slotOfKey.count)
                }
            }
            let slots = slotOfKey.sorted { arrival[$0] < arrival[$1] }
            var start = 0
            let final = store.finish()
            try await reject(superseded(final, live: slotOfKey), of: final, context)
            while start < slots.count {
                let end = min(slots.count, start + 65_536)
                try await context.emit(final.gathered(Array(slots[start..<end])), on: "out")
                start = end
            }
            context.log(.info, "dedupe: kept \(slots.count) row(s), dropped \(dropped) duplicate(s)")
            return nil
        }

        /// The slots of `all` that a later, better row replaced (none unless duplicates are rejected).
        func superseded(_ all: RecordBatch, live: [Int]) -> [Int] {
            guard rejectDuplicates else { return [] }
            var isLive = [Bool](repeating: false, count: all.count)
            for slot in live { isLive[slot] = true }
            return isLive.indices.filter { !isLive[$0] }
        }
    }
}

/// Rows copied out of input batches into one growing set of columns (append-only; superseded rows are garbage
/// until a compaction copies only the live ones).
struct RowStore {
    let schema: Schema
    private var builders: [ColumnBuilder]
    private(set) var count = 0

    init(schema: Schema) {
        self.schema = schema
        builders = schema.fields.map { ColumnBuilder(type: $0.type) }
    }

    /// Copies row `r` of `batch` in; returns its slot.
    mutating func append(_ batch: RecordBatch, _ r: Int) -> Int {
        for k in builders.indices { builders[k].append(from: batch.columns[k], r) }
        count += 1
        return count - 1
    }

    /// The rows as a batch (slot = row number); the store is empty afterwards.
    mutating func finish() -> RecordBatch {
        let columns = builders.indices.map { builders[$0].finish() }
        defer { builders = schema.fields.map { ColumnBuilder(type: $0.type) }; count = 0 }
        return RecordBatch(schema: schema, columns: columns, count: count)
    }

    /// Whether most rows are superseded (worth compacting).
    func garbage(live: Int) -> Bool { count > 4096 && count > 2 * live }
}

import Columnar
import NodeKit

/// The run of a `join`: decides the build side, builds a hash table of it and streams the other side past it. Past
/// the memory limit it becomes a grace hash join: both sides are partitioned by key hash into spill files, and each
/// pair of partitions is joined in memory (a partition still too large is partitioned again, up to three levels).
struct HashJoin: NodeWork {
    enum Side: Sendable { case left, right }

    let type: JoinNode.JoinType
    let layout: JoinLayout
    let build: JoinNode.BuildSide
    let memoryLimit: Int
    let node: String

    static let partitions = 32
    static let outputRows = 65_536

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        let left = JoinInput(context.input("left")), right = JoinInput(context.input("right"))
        // Decide which side to build: the one named, or the one that ends first while both are read in step.
        var buildSide: Side
        switch build {
        case .left: buildSide = .left
        case .right: buildSide = .right
        case .auto:
            while !left.done && !right.done && left.bufferedBytes + right.bufferedBytes <= memoryLimit {
                try await (left.readBytes <= right.readBytes ? left : right).readOne()
            }
            buildSide = left.done ? .left : right.done ? .right : (left.readBytes <= right.readBytes ? .left : .right)
        }
        let (buildInput, probeInput) = buildSide == .left ? (left, right) : (right, left)
        let plan = JoinPlan(type: type, layout: layout, buildSide: buildSide)
        // Read the build side whole while it fits.
        while !buildInput.done && buildInput.bufferedBytes + probeInput.bufferedBytes + BuildTable.overhead(rows: buildInput.bufferedRows) <= memoryLimit {
            try await buildInput.readOne()
        }
        if buildInput.done {
            let table = BuildTable(batches: buildInput.takeBuffered(), keys: plan.buildKeys, schema: plan.buildSchema)
            if table.memoryBytes + probeInput.bufferedBytes <= memoryLimit * 2 {
                var state = ProbeState(table: table, plan: plan)
                for batch in probeInput.takeBuffered() { try await state.probe(batch, context) }
                while let batch = try await probeInput.next() { try await state.probe(batch, context) }
                try await state.finish(context)
                return nil
            }
            buildInput.putBack(table.rowCount > 0 ? [table.rows] : [])
        }
        try await spillJoin(build: buildInput, probe: probeInput, plan: plan, context)
        return nil
    }

    /// The grace hash join: both inputs partitioned to disk, then joined partition by partition.
    private func spillJoin(build: JoinInput, probe: JoinInput, plan: JoinPlan, _ context: any NodeContext) async throws {
        let directory = try SpillDirectory(node: node)
        defer { directory.remove() }
        context.log(.info, "join: the build side is over memoryLimit (\(memoryLimit >> 20) MB); partitioning both inputs to \(directory.path)")
        let buildParts = try Partitioner(directory: directory, keys: plan.buildKeys, seed: 0, count: Self.partitions)
        for batch in build.takeBuffered() { try buildParts.add(batch) }
        while let batch = try await build.next() { try buildParts.add(batch) }
        let probeParts = try Partitioner(directory: directory, keys: plan.probeKeys, seed: 0, count: Self.partitions)
        for batch in probe.takeBuffered() { try probeParts.add(batch) }
        while let batch = try await probe.next() { try probeParts.add(batch) }
        context.log(.info, "join: partitioned \(buildParts.rows) build and \(probeParts.rows) probe rows (\(buildParts.bytes >> 20) MB and \(probeParts.bytes >> 20) MB on disk)")
        for (buildFile, probeFile) in zip(buildParts.files, probeParts.files) {
            try await joinPartition(build: buildFile, probe: probeFile, plan: plan, directory: directory, depth: 1, context)
        }
    }

    private func joinPartition(build: SpillFile, probe: SpillFile, plan: JoinPlan, directory: SpillDirectory, depth: Int, _ context: any NodeContext) async throws {
        defer { build.remove(); probe.remove() }
        if build.bytesWritten > memoryLimit, depth < 4, build.rows > 1 {
            // Still too large: split this pair again with another hash seed.
            let buildParts = try Partitioner(directory: directory, keys: plan.buildKeys, seed: UInt64(depth), count: 8)
            try await build.read(schema: plan.buildSchema) { try buildParts.add($0) }
            let probeParts = try Partitioner(directory: directory, keys: plan.probeKeys, seed: UInt64(depth), count: 8)
            try await probe.read(schema: plan.probeSchema) { try probeParts.add($0) }
            for (b, p) in zip(buildParts.files, probeParts.files) {
                try await joinPartition(build: b, probe: p, plan: plan, directory: directory, depth: depth + 1, context)
            }
            return
        }
        var batches: [RecordBatch] = []
        try await build.read(schema: plan.buildSchema) { batches.append($0) }
        var state = ProbeState(table: BuildTable(batches: batches, keys: plan.buildKeys, schema: plan.buildSchema), plan: plan)
        try await probe.read(schema: plan.probeSchema) { try await state.probe($0, context) }
        try await state.finish(context)
    }
}

/// One input of the join while it is being read: what was read so far and not yet used.
final class JoinInput {
    private var iterator: BatchStream.AsyncIterator
    private var buffered: [RecordBatch] = []
    private(set) var done = false
    private(set) var readBytes = 0
    private(set) var bufferedBytes = 0
    private(set) var bufferedRows = 0

    init(_ stream: BatchStream) { iterator = stream.makeAsyncIterator() }

    /// Reads one batch into the buffer (or notes the end).
    func readOne() async throws {
        guard !done else { return }
        guard let batch = try await iterator.next() else { done = true; return }
        readBytes += batch.byteSize
        bufferedBytes += batch.byteSize
        bufferedRows += batch.count
        buffered.append(batch)
    }

    /// The next batch not yet buffered (after the buffer was taken).
    func next() async throws -> RecordBatch? {
        guard !done else { return nil }
        guard let batch = try await iterator.next() else { done = true; return nil }
        return batch
    }

    func takeBuffered() -> [RecordBatch] {
        defer { buffered = []; bufferedBytes = 0; bufferedRows = 0 }
        return buffered
    }

    func putBack(_ batches: [RecordBatch]) {
        buffered = batches
        bufferedBytes = batches.reduce(0) { $0 + $1.byteSize }
        bufferedRows = batches.reduce(0) { $0 + $1.count }
    }
}

/// What the join emits, seen from its build and probe sides.
struct JoinPlan: Sendable {
    let type: JoinNode.JoinType
    let layout: JoinLayout
    let buildSide: HashJoin.Side

    var buildKeys: [Int] { buildSide == .left ? layout.leftKeys : layout.rightKeys }
    var probeKeys: [Int] { buildSide == .left ? layout.rightKeys : layout.leftKeys }
    var buildSchema: Schema { buildSide == .left ? layout.left : layout.right }
    var probeSchema: Schema { buildSide == .left ? layout.right : layout.left }
    var probeIsLeft: Bool { buildSide == .right }

    /// Probe rows without a match are emitted (with the build side missing).
    var keepsUnmatchedProbe: Bool { probeIsLeft ? [.left, .full, .anti].contains(type) : [.right, .full].contains(type) }
    /// Build rows no probe row matched are emitted at the end.
    var keepsUnmatchedBuild: Bool { probeIsLeft ? [.right, .full].contains(type) : [.left, .full, .anti].contains(type) }
    /// Matched pairs are emitted (all but semi and anti joins).
    var emitsPairs: Bool { type != .semi && type != .anti }
}

/// The build side in memory: its batches, and for every key the rows holding it (a chained hash table).
struct BuildTable {
    /// The build side's rows in one batch: a global row number is a row of it.
    let rows: RecordBatch
    /// Global row → the next global row with the same key (-1 ends the chain).
    private(set) var next: [Int32] = []
    private var intHeads = IntKeyTable()
    private var byteKeys = KeyIndex()
    private var byteHeads: [Int32] = []
    /// Whether the key is one int64-stored column (dates, timestamps and decimals too): the fast table serves it.
    let intKey: Bool
    /// Whether some key occurs on more than one build row (otherwise no chain needs following).
    private(set) var hasDuplicateKeys = false
    var rowCount: Int { rows.count }

    /// Per-row bookkeeping beyond the batches themselves (chains, positions, hash entries), for memory estimates.
    static func overhead(rows: Int) -> Int { rows * 48 }

    var memoryBytes: Int { rows.byteSize + Self.overhead(rows: rowCount) }

    init(batches: [RecordBatch], keys: [Int], schema: Schema) {
        rows = batches.isEmpty ? RecordBatch.empty(schema) : RecordBatch.concatenated(batches)
        intKey = keys.count == 1 && batches.first.map { $0.columns[keys[0]].type.storage == .int64 } ?? false
        let total = rows.count
        next = [Int32](repeating: -1, count: total)
        var scratch: [UInt8] = []
        guard total > 0 else { return }
        let columns = keys.map { rows.columns[$0] }
        let ints = intKey ? columns[0].int64Values : []
        for r in 0..<total {
            if RowKey.hasNull(columns, r) { continue }
            let global = Int32(r)
            if intKey {
                if let head = intHeads.put(ints[r], global) { next[r] = head; hasDuplicateKeys = true }
            } else {
                scratch.removeAll(keepingCapacity: true)
                for column in columns { RowKey.append(column, r, to: &scratch) }
                let (k, isNew) = byteKeys.insert(scratch)
                if isNew { byteHeads.append(global) } else { next[r] = byteHeads[k]; byteHeads[k] = global; hasDuplicateKeys = true }
            }
        }
    }

    /// Runs `body` with a fast lookup of int64 keys (the first build row holding the key, -1: none).
    @inline(__always)
    func withLookup<R>(_ body: ((Int64) -> Int32) throws -> R) rethrows -> R { try intHeads.withLookup(body) }

    /// The first build row holding the int64 key (-1: none).
    @inline(__always)
    func first(int key: Int64) -> Int32 { intHeads.get(key) ?? -1 }

    /// The first build row whose key equals the probe row's (-1: none); follow `next` for the others.
    @inline(__always)
    func first(_ columns: [Column], _ row: Int, scratch: inout [UInt8]) -> Int32 {
        if RowKey.hasNull(columns, row) { return -1 }
        if intKey { return intHeads.get(columns[0].int64Values[row]) ?? -1 }
        scratch.removeAll(keepingCapacity: true)
        for column in columns { RowKey.append(column, row, to: &scratch) }
        return byteKeys.find(scratch).map { byteHeads[$0] } ?? -1
    }
}

/// Streams probe batches past a build table and emits the joined rows; remembers which build rows matched.
struct ProbeState {
    let table: BuildTable
    let plan: JoinPlan
    private var matched: [Bool]
    private var scratch: [UInt8] = []

    init(table: BuildTable, plan: JoinPlan) {
        self.table = table
        self.plan = plan
        matched = plan.keepsUnmatchedBuild || (plan.type == .semi && !plan.probeIsLeft) ? [Bool](repeating: false, count: table.rowCount) : []
    }

    mutating func probe(_ batch: RecordBatch, _ context: any NodeContext) async throws {
        let keys = plan.probeKeys.map { batch.columns[$0] }
        if plan.type == .inner, table.intKey, !table.hasDuplicateKeys, keys[0].type.storage == .int64 {
            try await probeUniqueInts(batch, keys[0], context)
            return
        }
        var probeRows: [Int32] = [], buildRows: [Int32] = []
        let trackMatches = !matched.isEmpty
        let ints = table.intKey && keys[0].type.storage == .int64 ? keys[0].int64Values : nil
        for r in 0..<batch.count {
            var candidate = if let ints { keys[0].isNull(r) ? -1 : table.first(int: ints[r]) } else { table.first(keys, r, scratch: &scratch) }
            let hit = candidate >= 0
            switch plan.type {
            case .semi where plan.probeIsLeft:
                if hit { probeRows.append(Int32(r)); buildRows.append(-1) }
            case .anti where plan.probeIsLeft:
                if !hit { probeRows.append(Int32(r)); buildRows.append(-1) }
            case .semi, .anti:
                while candidate >= 0 { matched[Int(candidate)] = true; candidate = table.next[Int(candidate)] }
            default:
                if !hit {
                    if plan.keepsUnmatchedProbe { probeRows.append(Int32(r)); buildRows.append(-1) }
                    continue
                }
                while candidate >= 0 {
                    probeRows.append(Int32(r))
                    buildRows.append(candidate)
                    if trackMatches { matched[Int(candidate)] = true }
                    candidate = table.next[Int(candidate)]
                }
            }
            if probeRows.count >= HashJoin.outputRows {
                try await emit(probe: batch, probeRows, buildRows, context)
                probeRows.removeAll(keepingCapacity: true)
                buildRows.removeAll(keepingCapacity: true)
            }
        }
        if !probeRows.isEmpty { try await emit(probe: batch, probeRows, buildRows, context) }
    }

    /// The common case, tight: an inner join on one integer key that is unique on the build side (a dimension's
    /// primary key), so each probe row matches at most one build row.
    private func probeUniqueInts(_ batch: RecordBatch, _ key: Column, _ context: any NodeContext) async throws {
        var probeRows: [Int32] = [], buildRows: [Int32] = []
        probeRows.reserveCapacity(batch.count)
        buildRows.reserveCapacity(batch.count)
        let validity = key.validity
        key.int64Values.withUnsafeBufferPointer { ints in
            table.withLookup { find in
                for r in 0..<ints.count where validity?[r] ?? true {
                    let match = find(ints[r])
                    if match >= 0 {
                        probeRows.append(Int32(r))
                        buildRows.append(match)
                    }
                }
            }
        }
        var start = 0
        while start < probeRows.count {
            let end = min(probeRows.count, start + HashJoin.outputRows)
            try await emit(probe: batch, Array(probeRows[start..<end]), Array(buildRows[start..<end]), context)
            start = end
        }
    }

    /// Build rows that matched nothing (outer joins), or that matched something (a semi join built on the left).
    func finish(_ context: any NodeContext) async throws {
        guard !matched.isEmpty else { return }
        let wanted = plan.type == .semi
        var rows: [Int32] = []
        for g in 0..<table.rowCount where matched[g] == wanted {
            rows.append(Int32(g))
            if rows.count >= HashJoin.outputRows {
                try await emit(probe: nil, [Int32](repeating: -1, count: rows.count), rows, context)
                rows.removeAll(keepingCapacity: true)
            }
        }
        if !rows.isEmpty { try await emit(probe: nil, [Int32](repeating: -1, count: rows.count), rows, context) }
    }

    /// One output batch: for each pair, the probe row (or none) and the build row (global number, or none);
    /// columns are gathered in bulk.
    private func emit(probe batch: RecordBatch?, _ probeRows: [Int32], _ buildRows: [Int32], _ context: any NodeContext) async throws {
        let count = probeRows.count
        let probeIsLeft = plan.probeIsLeft
        let build = table.rows
        func fromProbe(_ i: Int, output k: Int) -> Column {
            guard let batch else {
                var builder = ColumnBuilder(type: plan.layout.schema.fields[k].type, capacity: count)
                for _ in 0..<count { builder.appendNull() }
                return builder.finish()
            }
            return probeRows.withUnsafeBufferPointer { batch.columns[i].gathered(nullable: $0) }
        }
        func fromBuild(_ i: Int) -> Column { buildRows.withUnsafeBufferPointer { build.columns[i].gathered(nullable: $0) } }
        var columns: [Column] = []
        columns.reserveCapacity(plan.layout.sources.count)
        for (k, source) in plan.layout.sources.enumerated() {
            switch source {
            case let .left(i): columns.append(probeIsLeft ? fromProbe(i, output: k) : fromBuild(i))
            case let .right(i): columns.append(probeIsLeft ? fromBuild(i) : fromProbe(i, output: k))
            case let .coalesced(l, r):
                var builder = ColumnBuilder(type: plan.layout.schema.fields[k].type, capacity: count)
                for n in 0..<count {
                    let leftRow = probeIsLeft ? probeRows[n] : buildRows[n]
                    let rightRow = probeIsLeft ? buildRows[n] : probeRows[n]
                    if leftRow >= 0 {
                        builder.append(from: probeIsLeft ? batch!.columns[l] : build.columns[l], Int(leftRow))
                    } else if rightRow >= 0 {
                        builder.append(from: probeIsLeft ? build.columns[r] : batch!.columns[r], Int(rightRow))
                    } else {
                        builder.appendNull()
                    }
                }
                columns.append(builder.finish())
            }
        }
        try await context.emit(RecordBatch(schema: plan.layout.schema, columns: columns, count: count), on: "out")
    }
}

/// Splits batches by key hash into spill files, one per partition (rows with a NULL key go to the first: they
/// match nothing anyway).
final class Partitioner {
    let files: [SpillFile]
    let keys: [Int]
    let seed: UInt64
    private(set) var rows = 0
    var bytes: Int { files.reduce(0) { $0 + $1.bytesWritten } }

    init(directory: SpillDirectory, keys: [Int], seed: UInt64, count: Int) throws {
        var files: [SpillFile] = []
        for _ in 0..<count { files.append(try directory.file()) }
        self.files = files
        self.keys = keys
        self.seed = seed
    }

    func add(_ batch: RecordBatch) throws {
        let columns = keys.map { batch.columns[$0] }
        var parts = [[Int]](repeating: [], count: files.count)
        var scratch: [UInt8] = []
        for r in 0..<batch.count {
            if RowKey.hasNull(columns, r) { parts[0].append(r); continue }
            scratch.removeAll(keepingCapacity: true)
            for column in columns { RowKey.append(column, r, to: &scratch) }
            parts[Int(Self.hash(scratch, seed: seed) % UInt64(files.count))].append(r)
        }
        for (p, selected) in parts.enumerated() where !selected.isEmpty {
            try files[p].write(batch.gathered(selected))
        }
        rows += batch.count
    }

    /// FNV-1a over the key bytes, mixed with the seed (each level of partitioning splits differently).
    static func hash(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (seed &* 0x9e37_79b9_7f4a_7c15)
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }
}

extension RecordBatch {
    /// The given rows, in the given order.
    func gathered(_ rows: [Int]) -> RecordBatch {
        let narrow: [Int32] = rows.map { Int32($0) }
        return gathered(narrow)
    }
}

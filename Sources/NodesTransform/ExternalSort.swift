import Columnar
import Foundation
import NodeKit

/// The run of a `sort`: collects rows up to the memory limit, sorts them (stably) and, when more rows follow,
/// writes them to disk as a sorted run; at the end merges the runs (ties go to the earlier run, so the whole sort
/// stays stable).
struct ExternalSort: NodeWork {
    let order: RowOrder
    let schema: Schema
    let memoryLimit: Int
    let node: String
    /// How many leading keys of `order` form groups (a window's partitions): output batches then end where a
    /// group ends whenever they can (see `sort`). 0: batches end anywhere.
    var groupKeys = 0

    static let outputRows = 65_536

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        try await sort(context.input("in"), context) { batch, _ in try await context.emit(batch, on: "out") }
        return nil
    }

    /// Rows per batch of a sorted run on disk: small, so that a merge of many runs holds little of each.
    static let runRows = 4_096

    /// Sorts `input` and hands the rows in order, batch by batch, to `output` (the sort node emits them; a window
    /// node computes over them). With `groupKeys`, a batch grows past its usual size until its last group ends
    /// (up to `maxGroupBatchRows`); `output`'s flag says whether it did, i.e. no row of its last group follows.
    ///
    /// Memory: a chunk is sorted by concatenating its batches and gathering the rows in order, so it is counted
    /// twice, plus its sort keys. Past half the `memoryLimit` the chunk is sorted and written to disk as a run by a
    /// background task while the next chunk fills the other half (reading and sorting overlap). The last chunk
    /// stays in memory and joins the merge from there.
    func sort(_ input: BatchStream, _ context: any NodeContext, output: (RecordBatch, Bool) async throws -> Void) async throws {
        var chunk: [RecordBatch] = []
        var chunkBytes = 0
        var directory: SpillDirectory?
        var runs: [SpillHandle] = []
        var writing: Task<SpillHandle, any Error>?
        defer {
            writing?.cancel()
            directory?.remove()
        }
        let order = order, schema = schema
        for try await batch in input where batch.count > 0 {
            chunk.append(batch)
            chunkBytes += 2 * batch.byteSize + batch.count * (8 * 2 * order.keys.count + 24)
            if chunkBytes > memoryLimit / 2 {
                if directory == nil {
                    directory = try SpillDirectory(node: node)
                    context.log(.info, "sort: over memoryLimit (\(memoryLimit >> 20) MB); writing sorted runs to \(directory!.path)")
                }
                if let writing { runs.append(try await writing.value) }
                let handle = SpillHandle(try directory!.file())
                let full = chunk
                chunk = []
                chunkBytes = 0
                writing = Task { try Self.sortChunk(full, order: order, rows: Self.runRows) { try handle.file.write($0) }; return handle }
            }
        }
        if let writing { runs.append(try await writing.value) }
        writing = nil
        if runs.isEmpty {
            let sorted = SortedChunk(chunk, order: order)
            for (range, ends) in sorted.ranges(of: Self.outputRows, groups: groupOrder, upTo: maxGroupBatchRows) { try await output(sorted.batch(range), ends) }
            return
        }
        var last: [RecordBatch] = []
        Self.sortChunk(chunk, order: order, rows: Self.runRows) { last.append($0) }
        chunk = []
        context.log(.info, "sort: merging \(runs.count + (last.isEmpty ? 0 : 1)) sorted runs (\(runs.reduce(0) { $0 + $1.file.rows } + last.reduce(0) { $0 + $1.count }) rows)")
        var sources: [() throws -> RecordBatch?] = []
        for run in runs {
            let reader = try run.file.reader(schema: schema)
            sources.append { try reader.next() }
        }
        if !last.isEmpty {
            var iterator = last.makeIterator()
            last = []
            sources.append { iterator.next() }
        }
        try await merge(sources, output: output)
        for run in runs { run.file.remove() }
    }

    /// Sorts the chunk's rows (stably, comparing normalized keys) and hands them on as batches of up to `rows`.
    static func sortChunk(_ chunk: [RecordBatch], order: RowOrder, rows batchRows: Int, _ sink: (RecordBatch) throws -> Void) rethrows {
        let sorted = SortedChunk(chunk, order: order)
        for range in sorted.ranges(of: batchRows) { try sink(sorted.batch(range)) }
    }

    /// The order of the group keys alone, nil without groups.
    var groupOrder: RowOrder? { groupKeys > 0 ? RowOrder(keys: Array(order.keys.prefix(groupKeys))) : nil }

    /// The most rows an output batch grows to while waiting for its last group to end: 8 batches' worth, less
    /// under a small `memoryLimit` (down to none: batches then end where they would without groups).
    var maxGroupBatchRows: Int { max(1_024, min(8 * Self.outputRows, memoryLimit / 64)) }

    /// A k-way merge of sorted runs with a binary heap of run cursors, comparing normalized keys; the output rows
    /// are gathered in bulk from the runs' batches.
    private func merge(_ runs: [() throws -> RecordBatch?], output: (RecordBatch, Bool) async throws -> Void) async throws {
        let order = order, groupOrder = groupOrder, maxGroupBatchRows = maxGroupBatchRows
        let cursors = MergeCursors(runs: runs.count)
        var batches = [RecordBatch](repeating: RecordBatch(emptyRows: 0), count: runs.count)
        /// Loads the run's next non-empty batch; false when the run is exhausted.
        func load(_ run: Int) throws -> Bool {
            while let batch = try runs[run]() {
                guard batch.count > 0 else { continue }
                batches[run] = batch
                cursors.load(run, NormalizedKeys(batch, order: order, alwaysNullWords: true), rows: batch.count)
                return true
            }
            return false
        }
        var heap: [Int32] = []
        for run in runs.indices where try load(run) { heap.append(Int32(run)) }
        guard !heap.isEmpty else { return }
        let width = cursors.width, exact = cursors.isExact
        let keys = cursors.keys, row = cursors.row, end = cursors.end, source = cursors.source
        func before(_ a: Int, _ b: Int) -> Bool {
            var x = keys[a] + row[a] * width, y = keys[b] + row[b] * width
            for _ in 0..<width {
                if x.pointee != y.pointee { return x.pointee < y.pointee }
                x += 1
                y += 1
            }
            if !exact {
                let full = order.compare(batches[a], row[a], batches[b], row[b])
                if full != 0 { return full < 0 }
            }
            return a < b   // ties go to the earlier run: the merge is stable
        }
        func siftDown(_ start: Int) {
            var i = start
            let count = heap.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < count, before(Int(heap[l]), Int(heap[smallest])) { smallest = l }
                if r < count, before(Int(heap[r]), Int(heap[smallest])) { smallest = r }
                if smallest == i { return }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        var sources: [RecordBatch] = []
        func register() {
            sources = []
            for run in heap { source[Int(run)] = Int32(sources.count); sources.append(batches[Int(run)]) }
        }
        register()
        var refs: [(source: Int32, row: Int32)] = []
        refs.reserveCapacity(Self.outputRows)
        // A batch's rows are gathered by a task of their own while the previous batch goes to `output` and the
        // heap picks the next batch's rows: the merge uses a second core.
        let schema = schema
        var gathering: (batch: Task<RecordBatch, Never>, ends: Bool)?
        func hand(ends: Bool) async throws {
            let sources = sources, rows = refs
            let next = Task { RecordBatch.interleaving(sources, rows, schema: schema) }
            if let gathering { try await output(await gathering.batch.value, gathering.ends) }
            gathering = (next, ends)
            refs.removeAll(keepingCapacity: true)
            register()
        }
        // Once a batch is full, the group of its last row (its key words, or its batch and row when the words
        // do not decide), which the batch waits to see end.
        let groupWords = 2 * groupKeys   // every key takes a NULL word and a value word in a merge
        let lastGroup = UnsafeMutablePointer<UInt64>.allocate(capacity: max(groupWords, 1))
        defer { lastGroup.deallocate() }
        var lastRow: (batch: RecordBatch, row: Int)?
        func sameGroup(_ run: Int) -> Bool {
            guard let groupOrder, let lastRow else { return false }
            if exact { return memcmp(lastGroup, keys[run] + row[run] * width, groupWords * 8) == 0 }
            return groupOrder.compare(lastRow.batch, lastRow.row, batches[run], row[run]) == 0
        }
        while let top = heap.first.map(Int.init) {
            if lastRow != nil, !sameGroup(top) || refs.count >= maxGroupBatchRows {
                try await hand(ends: !sameGroup(top))
                lastRow = nil
            }
            refs.append((source[top], Int32(row[top])))
            if refs.count == Self.outputRows, groupKeys > 0 {
                lastGroup.update(from: keys[top] + row[top] * width, count: groupWords)
                lastRow = (batches[top], row[top])
            }
            row[top] += 1
            if row[top] == end[top] {
                if try load(top) {
                    source[top] = Int32(sources.count)
                    sources.append(batches[top])
                } else {
                    heap[0] = heap[heap.count - 1]
                    heap.removeLast()
                }
            }
            if !heap.isEmpty { siftDown(0) }
            if refs.count >= Self.outputRows, groupKeys == 0 { try await hand(ends: false) }
        }
        if !refs.isEmpty { try await hand(ends: true) }
        if let gathering { try await output(await gathering.batch.value, gathering.ends) }
    }
}

/// The per-run state of a merge in memory it manages itself (each run's current keys, row, row count and index
/// among the output's sources), so that the merge's per-row loop reads plain pointers and counts no references.
private final class MergeCursors {
    let keys: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>>
    let row: UnsafeMutablePointer<Int>
    let end: UnsafeMutablePointer<Int>
    let source: UnsafeMutablePointer<Int32>
    private let capacity: UnsafeMutablePointer<Int>
    private let runs: Int
    /// Words per row and whether the keys decide the order alone; the same for every batch of a merge.
    private(set) var width = 0
    private(set) var isExact = true

    init(runs: Int) {
        self.runs = runs
        keys = .allocate(capacity: max(runs, 1))
        row = .allocate(capacity: max(runs, 1))
        end = .allocate(capacity: max(runs, 1))
        source = .allocate(capacity: max(runs, 1))
        capacity = .allocate(capacity: max(runs, 1))
        for run in 0..<runs {
            keys[run] = .allocate(capacity: 1)
            capacity[run] = 1
            row[run] = 0
            end[run] = 0
            source[run] = -1
        }
    }

    /// Takes a run's next batch's keys (copied into the run's own buffer, grown when needed).
    func load(_ run: Int, _ batchKeys: NormalizedKeys, rows: Int) {
        width = batchKeys.width
        isExact = batchKeys.isExact
        let words = rows * width
        if capacity[run] < words {
            keys[run].deallocate()
            keys[run] = .allocate(capacity: words)
            capacity[run] = words
        }
        batchKeys.words.withUnsafeBufferPointer { keys[run].update(from: $0.baseAddress!, count: words) }
        row[run] = 0
        end[run] = rows
    }

    deinit {
        for run in 0..<runs { keys[run].deallocate() }
        keys.deallocate()
        row.deallocate()
        end.deallocate()
        source.deallocate()
        capacity.deallocate()
    }
}

/// A sorted run's spill file, handed back by the task that sorted and wrote it (one task uses it at a time).
final class SpillHandle: @unchecked Sendable {
    let file: SpillFile
    init(_ file: SpillFile) { self.file = file }
}

/// A chunk's rows in one batch and their sorted order, handed out as batches of sorted rows.
struct SortedChunk {
    let all: RecordBatch
    let rows: [Int32]

    init(_ chunk: [RecordBatch], order: RowOrder) {
        all = chunk.isEmpty ? RecordBatch(emptyRows: 0) : RecordBatch.concatenated(chunk)
        rows = chunk.isEmpty ? [] : NormalizedKeys.sortedRows(all, order: order)
    }

    /// Consecutive ranges of at most `size` sorted rows.
    func ranges(of size: Int) -> [Range<Int>] {
        stride(from: 0, to: rows.count, by: size).map { $0..<min(rows.count, $0 + size) }
    }

    /// Consecutive ranges of about `size` sorted rows, each extended to the end of its last group under `groups`
    /// (up to `maxRows`), with whether it ends a group.
    func ranges(of size: Int, groups: RowOrder?, upTo maxRows: Int) -> [(Range<Int>, Bool)] {
        guard let groups else { return ranges(of: size).map { ($0, false) } }
        var result: [(Range<Int>, Bool)] = []
        var start = 0
        while start < rows.count {
            var end = min(rows.count, start + size)
            let limit = min(rows.count, start + maxRows)
            while end < limit, groups.compare(all, Int(rows[end - 1]), all, Int(rows[end])) == 0 { end += 1 }
            let ends = end == rows.count || groups.compare(all, Int(rows[end - 1]), all, Int(rows[end])) != 0
            result.append((start..<end, ends))
            start = end
        }
        return result
    }

    /// The rows in sorted positions `range`, gathered.
    func batch(_ range: Range<Int>) -> RecordBatch {
        rows.withUnsafeBufferPointer { all.gathered(UnsafeBufferPointer(rebasing: $0[range])) }
    }
}

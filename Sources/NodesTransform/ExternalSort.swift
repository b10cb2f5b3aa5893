import Columnar
import NodeKit

/// The run of a `sort`: collects rows up to the memory limit, sorts them (stably) and, when more rows follow,
/// writes them to disk as a sorted run; at the end merges the runs (ties go to the earlier run, so the whole sort
/// stays stable).
struct ExternalSort: NodeWork {
    let order: RowOrder
    let schema: Schema
    let memoryLimit: Int
    let node: String

    static let outputRows = 65_536

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        try await sort(context.input("in"), context) { try await context.emit($0, on: "out") }
        return nil
    }

    /// Rows per batch of a sorted run on disk: small, so that a merge of many runs holds little of each.
    static let runRows = 4_096

    /// Sorts `input` and hands the rows in order, batch by batch, to `output` (the sort node emits them; a window
    /// node computes over them).
    ///
    /// Memory: a chunk is sorted by concatenating its batches and gathering the rows in order, so it is counted
    /// twice, plus its sort keys. Past half the `memoryLimit` the chunk is sorted and written to disk as a run by a
    /// background task while the next chunk fills the other half (reading and sorting overlap). The last chunk
    /// stays in memory and joins the merge from there.
    func sort(_ input: BatchStream, _ context: any NodeContext, output: (RecordBatch) async throws -> Void) async throws {
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
            try await Self.sortChunk(chunk, order: order, rows: Self.outputRows, output)
            return
        }
        var last: [RecordBatch] = []
        try Self.sortChunk(chunk, order: order, rows: Self.runRows) { last.append($0) }
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

    /// `sortChunk` handing each batch to an asynchronous consumer as soon as it is gathered.
    static func sortChunk(_ chunk: [RecordBatch], order: RowOrder, rows batchRows: Int, _ sink: (RecordBatch) async throws -> Void) async throws {
        let sorted = SortedChunk(chunk, order: order)
        for range in sorted.ranges(of: batchRows) { try await sink(sorted.batch(range)) }
    }

    /// A k-way merge of sorted runs with a binary heap of run cursors, comparing normalized keys; the output rows
    /// are gathered in bulk from the runs' batches.
    private func merge(_ runs: [() throws -> RecordBatch?], output: (RecordBatch) async throws -> Void) async throws {
        let order = order
        final class Cursor {
            let run: Int
            let next: () throws -> RecordBatch?
            let order: RowOrder
            var batch: RecordBatch
            var keys: NormalizedKeys
            /// The batch's index among the sources of the output being built.
            var source: Int32 = -1
            var row = 0
            init(run: Int, next: @escaping () throws -> RecordBatch?, batch: RecordBatch, order: RowOrder) {
                self.run = run
                self.next = next
                self.order = order
                self.batch = batch
                keys = NormalizedKeys(batch, order: order, alwaysNullWords: true)
            }
            /// Moves to the next row; false when the run is exhausted. `loaded` is true when a new batch came in.
            func advance() throws -> (more: Bool, loaded: Bool) {
                row += 1
                if row < batch.count { return (true, false) }
                while let loaded = try next() {
                    if loaded.count > 0 {
                        batch = loaded
                        keys = NormalizedKeys(loaded, order: order, alwaysNullWords: true)
                        row = 0
                        return (true, true)
                    }
                }
                return (false, false)
            }
        }
        var heap: [Cursor] = []
        for (index, next) in runs.enumerated() {
            var first = try next()
            while let batch = first, batch.count == 0 { first = try next() }
            if let first { heap.append(Cursor(run: index, next: next, batch: first, order: order)) }
        }
        guard let width = heap.first?.keys.width else { return }
        let exact = heap[0].keys.isExact
        func before(_ a: Cursor, _ b: Cursor) -> Bool {
            let c = a.keys.words.withUnsafeBufferPointer { x in b.keys.words.withUnsafeBufferPointer { y in NormalizedKeys.compare(x, a.row, y, b.row, width: width) } }
            if c != 0 { return c < 0 }
            if !exact {
                let full = order.compare(a.batch, a.row, b.batch, b.row)
                if full != 0 { return full < 0 }
            }
            return a.run < b.run
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heap.count, before(heap[l], heap[smallest]) { smallest = l }
                if r < heap.count, before(heap[r], heap[smallest]) { smallest = r }
                if smallest == i { return }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        var sources: [RecordBatch] = []
        for cursor in heap { cursor.source = Int32(sources.count); sources.append(cursor.batch) }
        var refs: [(source: Int32, row: Int32)] = []
        refs.reserveCapacity(Self.outputRows)
        func flush() async throws {
            guard !refs.isEmpty else { return }
            try await output(RecordBatch.interleaving(sources, refs, schema: schema))
            refs.removeAll(keepingCapacity: true)
            sources = []
            for cursor in heap { cursor.source = Int32(sources.count); sources.append(cursor.batch) }
        }
        while let top = heap.first {
            refs.append((top.source, Int32(top.row)))
            let (more, loaded) = try top.advance()
            if !more {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            } else if loaded {
                top.source = Int32(sources.count)
                sources.append(top.batch)
            }
            if !heap.isEmpty { siftDown(0) }
            if refs.count >= Self.outputRows { try await flush() }
        }
        try await flush()
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

    /// The rows in sorted positions `range`, gathered.
    func batch(_ range: Range<Int>) -> RecordBatch {
        rows.withUnsafeBufferPointer { all.gathered(UnsafeBufferPointer(rebasing: $0[range])) }
    }
}

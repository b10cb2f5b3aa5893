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

    /// Sorts `input` and hands the rows in order, batch by batch, to `output` (the sort node emits them; a window
    /// node computes over them).
    func sort(_ input: BatchStream, _ context: any NodeContext, output: (RecordBatch) async throws -> Void) async throws {
        var chunk: [RecordBatch] = []
        var chunkBytes = 0
        var directory: SpillDirectory?
        var runs: [SpillFile] = []
        defer { directory?.remove() }
        for try await batch in input where batch.count > 0 {
            chunk.append(batch)
            chunkBytes += batch.byteSize + batch.count * 8
            if chunkBytes > memoryLimit {
                if directory == nil {
                    directory = try SpillDirectory(node: node)
                    context.log(.info, "sort: over memoryLimit (\(memoryLimit >> 20) MB); writing sorted runs to \(directory!.path)")
                }
                runs.append(try writeRun(sorted(chunk), to: directory!))
                chunk = []
                chunkBytes = 0
            }
        }
        if runs.isEmpty {
            for batch in sorted(chunk) { try await output(batch) }
            return
        }
        if !chunk.isEmpty { runs.append(try writeRun(sorted(chunk), to: directory!)) }
        context.log(.info, "sort: merging \(runs.count) sorted runs (\(runs.reduce(0) { $0 + $1.rows }) rows)")
        try await merge(runs, output: output)
    }

    /// The chunk's rows in order, as batches of up to `outputRows`.
    func sorted(_ chunk: [RecordBatch]) -> [RecordBatch] {
        var refs: [(batch: Int32, row: Int32)] = []
        refs.reserveCapacity(chunk.reduce(0) { $0 + $1.count })
        for (b, batch) in chunk.enumerated() { for r in 0..<batch.count { refs.append((Int32(b), Int32(r))) } }
        let order = order
        // Swift's sort is stable; equal keys keep their input order.
        refs.sort { x, y in order.compare(chunk[Int(x.batch)], Int(x.row), chunk[Int(y.batch)], Int(y.row)) < 0 }
        var output: [RecordBatch] = []
        var start = 0
        while start < refs.count {
            let end = min(refs.count, start + Self.outputRows)
            let columns = schema.fields.indices.map { k -> Column in
                var builder = ColumnBuilder(type: schema.fields[k].type, capacity: end - start)
                for ref in refs[start..<end] { builder.append(from: chunk[Int(ref.batch)].columns[k], Int(ref.row)) }
                return builder.finish()
            }
            output.append(RecordBatch(schema: schema, columns: columns, count: end - start))
            start = end
        }
        return output
    }

    private func writeRun(_ batches: [RecordBatch], to directory: SpillDirectory) throws -> SpillFile {
        let file = try directory.file()
        for batch in batches { try file.write(batch) }
        return file
    }

    /// A k-way merge of sorted runs with a binary heap of run cursors.
    private func merge(_ runs: [SpillFile], output: (RecordBatch) async throws -> Void) async throws {
        final class Cursor {
            let run: Int
            let reader: SpillReader
            var batch: RecordBatch
            var row = 0
            init(run: Int, reader: SpillReader, batch: RecordBatch) { self.run = run; self.reader = reader; self.batch = batch }
            /// Moves to the next row; false when the run is exhausted.
            func advance() throws -> Bool {
                row += 1
                if row < batch.count { return true }
                while let next = try reader.next() {
                    if next.count > 0 { batch = next; row = 0; return true }
                }
                return false
            }
        }
        var heap: [Cursor] = []
        for (index, run) in runs.enumerated() {
            let reader = try run.reader(schema: schema)
            if let first = try reader.next(), first.count > 0 { heap.append(Cursor(run: index, reader: reader, batch: first)) }
        }
        let order = order
        func before(_ a: Cursor, _ b: Cursor) -> Bool {
            let c = order.compare(a.batch, a.row, b.batch, b.row)
            return c < 0 || (c == 0 && a.run < b.run)
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
        var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: Self.outputRows) }
        var pending = 0
        func flush() async throws {
            guard pending > 0 else { return }
            let columns = builders.indices.map { builders[$0].finish() }
            try await output(RecordBatch(schema: schema, columns: columns, count: pending))
            builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: Self.outputRows) }
            pending = 0
        }
        while let top = heap.first {
            for k in builders.indices { builders[k].append(from: top.batch.columns[k], top.row) }
            pending += 1
            if pending >= Self.outputRows { try await flush() }
            if try !top.advance() {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            if !heap.isEmpty { siftDown(0) }
        }
        try await flush()
        for run in runs { run.remove() }
    }
}

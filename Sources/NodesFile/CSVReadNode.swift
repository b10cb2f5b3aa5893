import Columnar
import Foundation
public import NodeKit

/// Reads delimited text files (one file or a glob) into typed batches.
///
/// RFC 4180 quoting, CRLF or LF, UTF-8 with or without BOM. The schema is declared, inferred from a
/// sample, or both (declared types override inferred ones). Malformed lines, ragged rows and values
/// that do not fit their column are rejected with their line number, never dropped or merged.
public struct CSVReadNode: NodeType {
    enum Encoding: String, Choice { case utf8 = "utf-8" }

    static let path = Field<String>("path", summary: "A file or glob (data/*.csv, logs/**/*.csv) relative to the pipeline file, a path in the connection's store, or an https:// URL. Files ending in .gz are decompressed.", example: "data/orders.csv")
    static let connection = FileNodeSupport.connection
    static let delimiter = Field<String>("delimiter", summary: "Field separator: one character, or 'tab'.", default: ",")
    static let quote = Field<String>("quote", summary: "Quote character.", default: "\"")
    static let header = Field<Bool>("header", summary: "Whether the first line holds column names.", default: true)
    static let nullValues = Field<[String]>("nullValues", summary: "Unquoted values read as NULL. A quoted empty string is an empty string.", default: [""])
    static let schema = Field<SchemaDeclaration?>("schema", summary: "Column types (all or some columns); the rest are inferred.", example: "{id: int64, zip: string}")
    static let inferRows = Field<Int>("inferRows", summary: "Rows sampled to infer column types.", default: 10_000)
    static let encoding = Field<Encoding>("encoding", summary: "Text encoding (a UTF-8 byte order mark is skipped).", default: .utf8)
    static let invalidText = Field<UTF8Validation.Policy>("invalidText", summary: "Text fields that are not valid UTF-8: reject the record, or replace each bad sequence with U+FFFD.", default: .reject)
    static let batchRows = Field<Int>("batchRows", summary: "Rows per batch.", default: 16_384)
    static let chunkBytes = Field<Int>("chunkBytes", summary: "Bytes read per chunk for parallel decoding (a longer record grows its chunk).", default: 4 << 20)
    static let threads = Field<Int>("threads", summary: "Chunks decoded in parallel ahead of the output; 0 = one less than the cores (at least 1), leaving a core for downstream nodes.", default: 0)

    public static let spec = NodeSpec(
        id: "csv.read", version: 1, category: .source, title: "CSV file",
        summary: "Reads CSV or other delimited files into typed rows.",
        inputs: [], outputs: [.data("out")],
        fields: [path.spec, connection.spec, delimiter.spec, quote.spec, header.spec, nullValues.spec, schema.spec, inferRows.spec, encoding.spec, invalidText.spec, batchRows.spec, threads.spec, chunkBytes.spec],
        capabilities: [.projection, .rejects], icon: "file-csv")

    let settings: Settings
    let location: FileLocation
    let scanner: CSVScanner
    let header: Bool
    let nullMarkers: [[UInt8]]
    let declared: Schema?
    let inferRows: Int
    let batchRows: Int
    let threads: Int
    let chunkBytes: Int
    let invalidText: UTF8Validation.Policy

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        location = try settings.fileLocation(path: Self.path, connection: Self.connection)
        func singleByte<T>(_ text: String, _ field: Field<T>) throws(ConfigError) -> UInt8 {
            if text == "tab" || text == "\\t" { return 9 }
            guard text.utf8.count == 1, let b = text.utf8.first else { throw settings.error(field, "must be a single ASCII character, got '\(text)'") }
            return b
        }
        let delimiter = try singleByte(try settings[Self.delimiter], Self.delimiter)
        let quote = try singleByte(try settings[Self.quote], Self.quote)
        if delimiter == quote || delimiter == 10 || delimiter == 13 { throw settings.error(Self.delimiter, "the delimiter must differ from the quote and from line ends") }
        scanner = CSVScanner(delimiter: delimiter, quote: quote)
        header = try settings[Self.header]
        nullMarkers = try settings[Self.nullValues].map { Array($0.utf8) }
        declared = try settings[Self.schema]?.schema
        inferRows = try settings[Self.inferRows]
        batchRows = try settings[Self.batchRows]
        _ = try settings[Self.encoding]
        invalidText = try settings[Self.invalidText]
        if batchRows < 1 { throw settings.error(Self.batchRows, "must be ≥ 1") }
        chunkBytes = try settings[Self.chunkBytes]
        if chunkBytes < 16 { throw settings.error(Self.chunkBytes, "must be at least 16") }
        let requested = try settings[Self.threads]
        if requested < 0 { throw settings.error(Self.threads, "must be ≥ 0") }
        threads = requested > 0 ? requested : max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let files = try await FileNodeSupport.list(location, settings: settings, path: Self.path)
        let first = files[0]
        let sample: CSVSample
        do {
            let input = try await FileInput.open(first, in: location, chunkSize: 1 << 20)
            sample = try await CSVSample.read(input, scanner: scanner, header: header, rows: inferRows, nullMarkers: nullMarkers)
        } catch {
            throw FileNodeSupport.planError(error, settings: settings, path: Self.path)
        }
        var names = sample.names
        if let declared, !header {
            guard declared.count == names.count || names.isEmpty else {
                throw settings.error(Self.schema, "the schema declares \(declared.count) columns but '\(first.path)' has \(names.count)")
            }
            names = declared.names
        }
        var fields: [SchemaField] = []
        for (i, name) in names.enumerated() {
            let type = declared?.field(named: name)?.type ?? (i < sample.inferred.count ? sample.inferred[i] : .string)
            fields.append(SchemaField(name, type))
        }
        if let declared {
            for field in declared.fields where !names.contains(field.name) {
                throw settings.error(Self.schema, "declared column '\(field.name)' is not in the file; its columns are: \(names.joined(separator: ", "))", code: "unknown_column")
            }
        }
        let full = Schema(fields)
        var positions = Array(full.fields.indices)
        if let projection = request.projection { positions = positions.filter { projection.contains(full.fields[$0].name) } }
        let output = Schema(positions.map { full.fields[$0] })
        let work = Work(location: location, files: files, scanner: scanner, header: header, headerNames: sample.rawNames, fullSchema: full, output: output,
                        positions: positions, nullMarkers: nullMarkers, batchRows: batchRows, workers: threads, chunkBytes: chunkBytes,
                        invalidText: invalidText)
        // A column inferred as string because of a few odd values says so (the editor shows it with the schema).
        let notes = names.indices.compactMap { i -> String? in
            guard declared?.field(named: names[i]) == nil, i < sample.inference.count, projection(request, keeps: names[i]) else { return nil }
            return sample.inference[i].fallbackNote(column: names[i]).map { "\($0) (in \(first.path.split(separator: "/").last.map(String.init) ?? first.path))" }
        }
        return NodePlan(outputs: ["out": output], work: work, notes: notes)
    }

    private func projection(_ request: PlanRequest, keeps name: String) -> Bool { request.projection?.contains(name) ?? true }

    struct Work: NodeWork {
        let location: FileLocation
        let files: [StoredFile]
        let scanner: CSVScanner
        let header: Bool
        let headerNames: [String]
        let fullSchema: Schema
        let output: Schema
        let positions: [Int]
        let nullMarkers: [[UInt8]]
        let batchRows: Int
        /// Chunk decodes allowed in flight beyond the one being merged.
        let workers: Int
        let chunkBytes: Int
        let invalidText: UTF8Validation.Policy

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            context.expectBytes(FileInput.totalSize(of: files))
            for file in files {
                try await read(file, context)
            }
            return nil
        }

        /// What one chunk decoded to; line numbers in `rejects` are relative to the chunk's first line.
        struct ChunkResult: Sendable {
            let chunk: CSVChunk
            let batches: [RecordBatch]
            let rejects: [RejectedRecord]
            /// Lines consumed, up to the start of `tail` if there is one.
            let lines: Int
            /// An unterminated quoted record at the end of a chunk that is not the file's last: it may
            /// continue in the next chunk, so the merge decodes it again together with that chunk.
            let tail: [UInt8]?
            var index: Int { chunk.index }
        }

        private func makeDecoder(_ path: String) -> CSVBatchDecoder {
            let decoder = CSVBatchDecoder(scanner: scanner, names: output.names, types: output.fields.map(\.type), fieldIndex: positions,
                                          expectedFields: fullSchema.count, nullMarkers: nullMarkers, batchRows: batchRows,
                                          invalidText: invalidText)
            decoder.source = path
            return decoder
        }

        /// Decodes one chunk of whole records (runs on any core).
        private func decode(_ chunk: CSVChunk, _ path: String) -> ChunkResult {
            let decoder = makeDecoder(path)
            decoder.stopAtUnterminated = !chunk.isLast
            var batches: [RecordBatch] = []
            var pos = 0
            chunk.bytes.withUnsafeBufferPointer { b in
                while pos < b.count {
                    pos = decoder.decode(b, from: pos, atEOF: true)
                    if decoder.isFull || pos >= b.count, decoder.rows > 0 { batches.append(decoder.finishBatch(schema: output)) }
                }
            }
            let tail = decoder.unterminatedAt.map { Array(chunk.bytes[$0...]) }
            return ChunkResult(chunk: chunk, batches: batches, rejects: decoder.rejects, lines: decoder.line - 1, tail: tail)
        }

        private func read(_ file: StoredFile, _ context: any NodeContext) async throws {
            let input = try await FileInput.open(file, in: location, chunkSize: chunkBytes)
            let path = input.path
            let headerReader = makeDecoder(path)
            context.addBytes(try await input.refill(consumed: 0))
            var pos = CSVSample.bomLength(input.buffer, input.filled)
            if header {
                while true {
                    let found = input.buffer.withUnsafeBufferPointer { b in
                        headerReader.scanHeader(UnsafeBufferPointer(rebasing: b[0..<input.filled]), from: pos, atEOF: input.atEOF)
                    }
                    if let found {
                        pos = found.next
                        if found.names != headerNames {
                            throw NodeError(code: "header_mismatch", message: "'\(path)' has columns \(found.names.joined(separator: ", ")) but the first file has \(headerNames.joined(separator: ", "))")
                        }
                        break
                    }
                    if input.atEOF { return }
                    context.addBytes(try await input.refill(consumed: pos))
                    pos = 0
                }
            }
            let chunker = CSVChunker(input: input, from: pos, quote: scanner.quote)
            var nextLine = headerReader.line
            var bytesBefore = input.totalRead
            try await withThrowingTaskGroup(of: ChunkResult.self) { group in
                var pending: [Int: ChunkResult] = [:]
                var nextIndex = 0, inFlight = 0
                var carry: [UInt8] = []
                func emitReady() async throws {
                    while var result = pending.removeValue(forKey: nextIndex) {
                        if !carry.isEmpty {
                            // The previous chunk ended inside a quoted field: decode it with this chunk, in order.
                            result = decode(CSVChunk(index: result.index, bytes: carry + result.chunk.bytes, isLast: result.chunk.isLast), path)
                            carry = []
                        }
                        if !result.rejects.isEmpty {
                            let base = nextLine - 1
                            try await context.reject(result.rejects.map { r in
                                var fixed = r
                                fixed.line = (r.line ?? 0) + base
                                fixed.message = "line \(fixed.line!): \(r.message)"
                                return fixed
                            })
                        }
                        let base = Int64(nextLine - 1)
                        for var batch in result.batches {
                            // The decoder counted lines from the chunk's start; the file's lines start at `nextLine`.
                            if var origin = batch.origin {
                                for i in origin.positions.indices { origin.positions[i] += base }
                                batch.origin = origin
                            }
                            try await context.emit(batch, on: "out")
                        }
                        nextLine += result.lines
                        carry = result.tail ?? []
                        nextIndex += 1
                    }
                }
                while let chunk = try await chunker.next() {
                    try Task.checkCancellation()
                    context.addBytes(input.totalRead - bytesBefore)
                    bytesBefore = input.totalRead
                    group.addTask { decode(chunk, path) }
                    inFlight += 1
                    while inFlight > workers {
                        guard let result = try await group.next() else { break }
                        inFlight -= 1
                        pending[result.index] = result
                        try await emitReady()
                    }
                }
                while let result = try await group.next() {
                    pending[result.index] = result
                    try await emitReady()
                }
                if !carry.isEmpty {
                    // The file ended inside the quoted field: reject it as the sequential reader would.
                    pending[nextIndex] = decode(CSVChunk(index: nextIndex, bytes: [], isLast: true), path)
                    try await emitReady()
                }
            }
        }
    }
}

/// The first records of a file: column names, inferred types, and why a column fell back to string.
struct CSVSample {
    var rawNames: [String]
    var names: [String]
    var inferred: [DataType]
    var inference: [TypeInference] = []

    /// The most columns a CSV file may have (a wider record fails at plan time with `too_many_columns`).
    static let maximumColumns = 16_384

    static func bomLength(_ buffer: UnsafeBufferPointer<UInt8>, _ filled: Int) -> Int {
        filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF ? 3 : 0
    }

    static func read(_ input: FileInput, scanner: CSVScanner, header: Bool, rows: Int, nullMarkers: [[UInt8]]) async throws -> CSVSample {
        let path = input.path
        try await input.refill(consumed: 0)
        var pos = bomLength(input.buffer, input.filled)
        // One more than the most columns allowed: the span count goes on past capacity, so a wider record is seen.
        let spans = FieldSpans(capacity: maximumColumns + 1)
        var names: [String]?
        var inference: [TypeInference] = []
        var seen = 0
        var line = 1
        let markers = Set(nullMarkers)
        while seen < rows {
            let outcome = input.buffer.withUnsafeBufferPointer { b -> (ScanOutcome, [String]?) in
                let buffer = UnsafeBufferPointer(rebasing: b[0..<input.filled])
                let result = scanner.scan(buffer, from: pos, atEOF: input.atEOF, fields: spans)
                let fields = spans.array
                guard case .record = result else { return (result, nil) }
                let values = fields.map { String(decoding: UnsafeBufferPointer(rebasing: buffer[$0.start..<$0.end]), as: UTF8.self) }
                if names != nil || !header {
                    if inference.isEmpty { inference = Array(repeating: TypeInference(), count: fields.count) }
                    if fields.count == inference.count, !(fields.count == 1 && fields[0].start == fields[0].end) {
                        for (k, span) in fields.enumerated() {
                            let slice = UnsafeBufferPointer(rebasing: buffer[span.start..<span.end])
                            if span.quoted, span.start == span.end { continue }
                            if !span.quoted, markers.contains(Array(slice)) { continue }
                            inference[k].observe(slice, line: line)
                        }
                    }
                }
                return (result, values)
            }
            if spans.count > maximumColumns {
                throw NodeError(code: "too_many_columns", message: "'\(path)' has a record of \(spans.count) fields; a CSV file may have at most \(maximumColumns) columns")
            }
            switch outcome.0 {
            case .incomplete:
                if input.atEOF { break }
                try await input.refill(consumed: pos)
                pos = 0
                continue
            case let .record(next, _), let .malformed(next, _, _), let .unterminated(next, _):
                line += input.buffer.withUnsafeBufferPointer { b in b[pos..<min(next, input.filled)].reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }
                pos = next
                if header, names == nil, let values = outcome.1 { names = values.map { $0.replacingOccurrences(of: "\"\"", with: "\"") } } else { seen += 1 }
            }
            if input.atEOF, pos >= input.filled { break }
            if pos >= input.filled { try await input.refill(consumed: pos); pos = 0 }
        }
        let raw = names ?? (0..<inference.count).map { "column_\($0 + 1)" }
        return CSVSample(rawNames: raw, names: uniqued(raw), inferred: inference.map(\.inferred), inference: inference)
    }

    /// Empty names become column_N; repeated names get _2, _3 … suffixes.
    static func uniqued(_ names: [String]) -> [String] {
        var seen: [String: Int] = [:]
        return names.enumerated().map { i, raw in
            let name = raw.trimmingCharacters(in: .whitespaces).isEmpty ? "column_\(i + 1)" : raw
            let n = seen[name, default: 0] + 1
            seen[name] = n
            return n == 1 ? name : "\(name)_\(n)"
        }
    }
}

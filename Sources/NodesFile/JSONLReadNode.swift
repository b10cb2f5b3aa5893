import Columnar
public import NodeKit

/// Reads JSON Lines files (one JSON object per line) into typed batches.
///
/// The schema is declared or inferred from a sample: keys in order of first appearance; numbers are
/// int64 or float64, nested objects and arrays are json. A line that is not a JSON object, or whose
/// value does not fit its column, is rejected with its line number.
public struct JSONLReadNode: NodeType {
    static let path = Field<String>("path", summary: "A file or glob (logs/*.jsonl, logs/**/*.jsonl) relative to the pipeline file, a path in the connection's store, or an https:// URL. Files ending in .gz are decompressed.", example: "data/events.jsonl")
    static let connection = FileNodeSupport.connection
    static let schema = Field<SchemaDeclaration?>("schema", summary: "Column types (all or some keys); the rest are inferred.")
    static let inferRows = Field<Int>("inferRows", summary: "Lines sampled to infer the schema.", default: 1_000)
    static let batchRows = Field<Int>("batchRows", summary: "Rows per batch.", default: 8_192)
    static let invalidText = Field<UTF8Validation.Policy>("invalidText", summary: "Lines that are not valid UTF-8: reject the record, or replace each bad sequence with U+FFFD.", default: .reject)

    public static let spec = NodeSpec(
        id: "jsonl.read", version: 1, category: .source, title: "JSON Lines file",
        summary: "Reads newline-delimited JSON objects into typed rows.",
        inputs: [], outputs: [.data("out")], fields: [path.spec, connection.spec, schema.spec, inferRows.spec, batchRows.spec, invalidText.spec],
        capabilities: [.projection, .rejects], icon: "file-code")

    let settings: Settings
    let location: FileLocation
    let declared: Schema?
    let inferRows: Int
    let batchRows: Int
    let invalidText: UTF8Validation.Policy

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        location = try settings.fileLocation(path: Self.path, connection: Self.connection)
        declared = try settings[Self.schema]?.schema
        inferRows = try settings[Self.inferRows]
        batchRows = max(1, try settings[Self.batchRows])
        invalidText = try settings[Self.invalidText]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let files = try await FileNodeSupport.list(location, settings: settings, path: Self.path)
        var order: [String] = []
        var types: [String: DataType] = [:]
        do {
            let input = try await FileInput.open(files[0], in: location, chunkSize: 1 << 20)
            try await input.refill(consumed: 0)
            let bom = CSVSample.bomLength(input.buffer, input.filled)
            _ = input.buffer.withUnsafeBufferPointer { b in
                JSONLBatchDecoder.infer(UnsafeBufferPointer(rebasing: b[bom..<input.filled]), maxLines: inferRows, order: &order, types: &types)
            }
        } catch {
            throw FileNodeSupport.planError(error, settings: settings, path: Self.path)
        }
        var fields = order.map { SchemaField($0, declared?.field(named: $0)?.type ?? types[$0] ?? .string) }
        for field in declared?.fields ?? [] where !order.contains(field.name) { fields.append(field) }
        let full = Schema(fields)
        let output = request.projection.map { p in Schema(full.fields.filter { p.contains($0.name) }) } ?? full
        return NodePlan(outputs: ["out": output], work: Work(location: location, files: files, schema: output, batchRows: batchRows, invalidText: invalidText))
    }

    struct Work: NodeWork {
        let location: FileLocation
        let files: [StoredFile]
        let schema: Schema
        let batchRows: Int
        let invalidText: UTF8Validation.Policy

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            context.expectBytes(FileInput.totalSize(of: files))
            for file in files { try await read(file, context) }
            return nil
        }

        private func read(_ file: StoredFile, _ context: any NodeContext) async throws {
            let input = try await FileInput.open(file, in: location)
            let path = input.path
            let decoder = JSONLBatchDecoder(schema: schema, batchRows: batchRows, invalidText: invalidText)
            decoder.source = path
            context.addBytes(try await input.refill(consumed: 0))
            var pos = CSVSample.bomLength(input.buffer, input.filled)
            while true {
                pos = input.buffer.withUnsafeBufferPointer { b in
                    decoder.decode(UnsafeBufferPointer(rebasing: b[0..<input.filled]), from: pos, atEOF: input.atEOF)
                }
                if !decoder.rejects.isEmpty {
                    let rejects = decoder.rejects
                    decoder.rejects.removeAll()
                    try await context.reject(rejects)
                }
                if decoder.isFull {
                    try Task.checkCancellation()
                    try await context.emit(decoder.finishBatch(), on: "out")
                    continue
                }
                if input.atEOF, pos >= input.filled { break }
                context.addBytes(try await input.refill(consumed: pos))
                pos = 0
            }
            if decoder.rows > 0 { try await context.emit(decoder.finishBatch(), on: "out") }
            let unknown = decoder.unknownKeys.sorted { $0.key < $1.key }
            if !unknown.isEmpty {
                let list = unknown.prefix(10).map { "\($0.key) (\($0.value)×)" }.joined(separator: ", ")
                context.log(.warning, "\(path): keys that are not columns were not read: \(list); declare them in 'schema' to read them")
            }
        }
    }
}

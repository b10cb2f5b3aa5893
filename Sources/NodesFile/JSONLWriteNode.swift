import Columnar
import Foundation
public import NodeKit

/// Writes rows as JSON Lines atomically (temporary file renamed into place on commit).
public struct JSONLWriteNode: NodeType {
    static let path = Field<String>("path", summary: "Output file, relative to the pipeline file or a path in the connection's store. Replaced atomically when the run commits.", example: "out/events.jsonl")
    static let connection = FileNodeSupport.connection
    public static let spec = NodeSpec(
        id: "jsonl.write", version: 1, category: .sink, title: "JSON Lines file",
        summary: "Writes one JSON object per row; the file appears only when the run commits.",
        inputs: [.data("in")], outputs: [], fields: [path.spec, connection.spec], capabilities: [.transactionalSink], icon: "file-export")

    let location: FileLocation

    public init(settings: Settings) throws(ConfigError) {
        location = try settings.fileLocation(path: Self.path, connection: Self.connection, writing: true)
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: [:], work: Work(location: location, schema: try request.input()))
    }

    struct Work: NodeWork {
        let location: FileLocation
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            try await FileSink.run(context, location: location) { output in try await write(context, output) }
        }

        private func write(_ context: any NodeContext, _ output: AtomicFileOutput) async throws {
            let nullBytes: [UInt8] = Array("null".utf8)
            var keys: [[UInt8]] = []
            for name in schema.names {
                var key: [UInt8] = []
                JSONText.appendString(name, to: &key)
                key.append(UInt8(ascii: ":"))
                keys.append(key)
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(AtomicFileOutput.flushThreshold + (1 << 16))
            for try await batch in context.input("in") {
                let before = output.bytesWritten + bytes.count
                try batch.withCursors { cursors in
                    for row in 0..<batch.count {
                        bytes.append(UInt8(ascii: "{"))
                        for c in 0..<cursors.count {
                            if c > 0 { bytes.append(UInt8(ascii: ",")) }
                            bytes.append(contentsOf: keys[c])
                            let cursor = cursors[c]
                            if cursor.isNull(row) { bytes.append(contentsOf: nullBytes); continue }
                            switch cursor.type {
                            case .string, .bytes: JSONText.appendString(cursor.bytes(row), to: &bytes)
                            case .json: bytes.append(contentsOf: cursor.bytes(row))
                            case .int64: bytes.append(contentsOf: String(cursor.ints![row]).utf8)
                            case .bool: bytes.append(contentsOf: (cursor.bools![row] ? "true" : "false").utf8)
                            default: JSONText.appendValue(batch.columns[c].value(at: row), to: &bytes)
                            }
                        }
                        bytes.append(contentsOf: [UInt8(ascii: "}"), 10])
                        if bytes.count >= AtomicFileOutput.flushThreshold { try output.write(&bytes) }
                    }
                }
                context.addBytes(output.bytesWritten + bytes.count - before)
            }
            try output.write(&bytes)
        }
    }
}

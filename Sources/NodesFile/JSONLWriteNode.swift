import Columnar
import Foundation
public import NodeKit

/// Writes rows as JSON Lines atomically (temporary file renamed into place on commit).
public struct JSONLWriteNode: NodeType {
    static let path = Field<String>("path", summary: "Output file, relative to the pipeline file. Replaced atomically on commit.", example: "out/events.jsonl")
    public static let spec = NodeSpec(
        id: "jsonl.write", version: 1, category: .sink, title: "JSON Lines file",
        summary: "Writes one JSON object per row; the file appears only when the run commits.",
        inputs: [.data("in")], outputs: [], fields: [path.spec], capabilities: [.transactionalSink], icon: "file-export")

    let path: String

    public init(settings: Settings) throws(ConfigError) {
        path = settings.resolvePath(try settings[Self.path])
    }

    public func plan(_ request: PlanRequest) throws(ConfigError) -> NodePlan {
        NodePlan(outputs: [:], work: Work(path: path, schema: try request.input()))
    }

    struct Work: NodeWork {
        let path: String
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            if context.isPreview {
                for try await _ in context.input("in") {}
                return nil
            }
            let output = try AtomicFileOutput(target: path, runID: context.runID)
            var keys: [[UInt8]] = []
            for name in schema.names {
                var key: [UInt8] = []
                JSONText.appendString(name, to: &key)
                key.append(UInt8(ascii: ":"))
                keys.append(key)
            }
            do {
                for try await batch in context.input("in") {
                    let before = output.bytesWritten
                    for row in 0..<batch.count {
                        try output.write { out in
                            out.append(UInt8(ascii: "{"))
                            for (c, column) in batch.columns.enumerated() {
                                if c > 0 { out.append(UInt8(ascii: ",")) }
                                out.append(contentsOf: keys[c])
                                if column.isNull(row) { out.append(contentsOf: Array("null".utf8)); continue }
                                switch column.type {
                                case .string, .bytes:
                                    let b = column.byteValues
                                    b.data.withUnsafeBufferPointer { JSONText.appendString(UnsafeBufferPointer(rebasing: $0[b.range(row)]), to: &out) }
                                case .int64, .bool: ValueFormatting.appendText(column, row, to: &out)
                                default: JSONText.appendValue(column.value(at: row), to: &out)
                                }
                            }
                            out.append(contentsOf: [UInt8(ascii: "}"), 10])
                        }
                    }
                    context.addBytes(output.bytesWritten - before)
                }
                return try output.finish()
            } catch {
                output.discard()
                throw error
            }
        }
    }
}

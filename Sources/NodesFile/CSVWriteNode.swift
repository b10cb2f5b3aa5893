import Columnar
import Foundation
public import NodeKit

/// Writes rows to a CSV file atomically: a temporary file renamed into place when the run commits.
public struct CSVWriteNode: NodeType {
    static let path = Field<String>("path", summary: "Output file, relative to the pipeline file or a path in the connection's store. Replaced atomically when the run commits.", example: "out/orders.csv")
    static let connection = FileNodeSupport.connection
    static let delimiter = Field<String>("delimiter", summary: "Field separator: one character, or 'tab'.", default: ",")
    static let header = Field<Bool>("header", summary: "Write a header line.", default: true)
    static let nullValue = Field<String>("nullValue", summary: "Text written for NULL (empty strings are quoted to stay distinct).", default: "")
    static let lineEnding = Field<LineEnding>("lineEnding", summary: "Line ending.", default: .lf)

    enum LineEnding: String, Choice { case lf, crlf }

    public static let spec = NodeSpec(
        id: "csv.write", version: 1, category: .sink, title: "CSV file",
        summary: "Writes rows to a CSV file; the file appears only when the run commits.",
        inputs: [.data("in")], outputs: [],
        fields: [path.spec, connection.spec, delimiter.spec, header.spec, nullValue.spec, lineEnding.spec],
        capabilities: [.transactionalSink], icon: "file-export")

    let location: FileLocation
    let delimiter: UInt8
    let header: Bool
    let nullValue: [UInt8]
    let lineEnding: [UInt8]

    public init(settings: Settings) throws(ConfigError) {
        location = try settings.fileLocation(path: Self.path, connection: Self.connection, writing: true)
        let d = try settings[Self.delimiter]
        if d == "tab" || d == "\\t" { delimiter = 9 } else {
            guard d.utf8.count == 1, let b = d.utf8.first, b != UInt8(ascii: "\""), b != 10, b != 13 else {
                throw settings.error(Self.delimiter, "must be a single character other than a quote or line end")
            }
            delimiter = b
        }
        header = try settings[Self.header]
        nullValue = Array(try settings[Self.nullValue].utf8)
        lineEnding = try settings[Self.lineEnding] == .lf ? [10] : [13, 10]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: [:], work: Work(node: self, schema: try request.input()))
    }

    struct Work: NodeWork {
        let node: CSVWriteNode
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            try await FileSink.run(context, location: node.location) { output in
                var buffer = TextBuffer(capacity: AtomicFileOutput.flushThreshold + (1 << 16))
                if node.header {
                    for (i, name) in schema.names.enumerated() {
                        if i > 0 { buffer.append(contentsOf: [node.delimiter]) }
                        Array(name.utf8).withUnsafeBufferPointer { appendQuotedIfNeeded($0, to: &buffer) }
                    }
                    buffer.append(contentsOf: node.lineEnding)
                }
                for try await batch in context.input("in") {
                    let before = output.bytesWritten + buffer.count
                    try write(batch, &buffer, output)
                    context.addBytes(output.bytesWritten + buffer.count - before)
                }
                try output.write(&buffer)
            }
        }

        private func write(_ batch: RecordBatch, _ buffer: inout TextBuffer, _ output: AtomicFileOutput) throws {
            let delimiter = node.delimiter, lineEnding = node.lineEnding
            let rowOverhead = batch.columns.count * (1 + node.nullValue.count) + lineEnding.count
            try node.nullValue.withUnsafeBufferPointer { nullValue in
                try batch.withCursors { cursors in
                    for row in 0..<batch.count {
                        buffer.reserve(rowOverhead)
                        for c in 0..<cursors.count {
                            if c > 0 { buffer.append(delimiter) }
                            let cursor = cursors[c]
                            if cursor.isNull(row) { buffer.append(nullValue); continue }
                            if cursor.type.storage == .bytes {
                                appendQuotedIfNeeded(cursor.bytes(row), to: &buffer)
                            } else {
                                ValueFormatting.appendScalar(cursor, row, to: &buffer)
                            }
                        }
                        buffer.reserve(lineEnding.count)
                        for b in lineEnding { buffer.append(b) }
                        if buffer.count >= AtomicFileOutput.flushThreshold { try output.write(&buffer) }
                    }
                }
            }
        }

        /// Quotes a field that is empty (to differ from NULL), equals the null text, or holds a delimiter, quote, CR or LF.
        @inline(__always)
        private func appendQuotedIfNeeded(_ field: UnsafeBufferPointer<UInt8>, to out: inout TextBuffer) {
            var needs = field.isEmpty || (!node.nullValue.isEmpty && field.elementsEqual(node.nullValue))
            var hasQuote = false
            if !needs {
                let delimiter = node.delimiter
                for b in field where b == delimiter || b == 10 || b == 13 || b == 34 {
                    needs = true
                    if b == 34 { hasQuote = true; break }
                }
            }
            out.reserve(field.count &* 2 &+ 2)
            guard needs else { out.append(field); return }
            out.append(34)
            if hasQuote {
                for b in field {
                    out.append(b)
                    if b == 34 { out.append(34) }
                }
            } else {
                out.append(field)
            }
            out.append(34)
        }
    }
}

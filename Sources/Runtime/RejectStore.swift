public import NodeKit
import Columnar
import Foundation
import Synchronization

/// A rejected record with its run context, as stored.
public struct RejectPacket: Sendable {
    public var runID: String
    public var traceID: String
    public var node: String
    public var record: RejectedRecord

    /// One JSON object per packet: code, message, node, field, source, line, row, trace_id, run_id, origin (where a later
    /// node's row came from, when known), and the record.
    public var jsonLine: String {
        var fields: [(String, Value)] = [
            ("code", .string(record.code)), ("message", .string(record.message)), ("node", .string(node)),
            ("field", record.field.map(Value.string) ?? .null), ("source", record.source.map(Value.string) ?? .null),
            ("line", record.line.map { .int(Int64($0)) } ?? .null), ("row", record.row.map { .int(Int64($0)) } ?? .null),
            ("trace_id", .string(traceID)), ("run_id", .string(runID)),
        ]
        if let origin = record.origin { fields.append(("origin", .string(origin))) }
        switch record.payload {
        case let .text(text): fields.append(("raw", .string(text)))
        case let .row(values): fields.append(("record", .json(JSONText.object(values.map { ($0.name, $0.value) }))))
        }
        return JSONText.object(fields)
    }
}

/// Where rejected records are kept so none is lost; replay reads them back.
public protocol RejectStore: Sendable {
    func write(_ packets: [RejectPacket]) throws
    /// A human-readable location for summaries (a file path), if any.
    var location: String? { get }
    /// Flushes and closes; called once at the end of the run.
    func close()
}

/// Keeps rejects in memory (tests and previews).
public final class MemoryRejectStore: RejectStore {
    private let storage = Mutex<[RejectPacket]>([])
    public init() {}
    public var packets: [RejectPacket] { storage.withLock { $0 } }
    public func write(_ packets: [RejectPacket]) throws { storage.withLock { $0.append(contentsOf: packets) } }
    public var location: String? { nil }
    public func close() {}
}

/// Appends rejects as JSON lines to a file, created on the first reject.
public final class JSONLinesRejectStore: RejectStore {
    private let path: String
    private let handle = Mutex<FileHandle?>(nil)

    public init(path: String) { self.path = path }

    public var location: String? { path }

    public func write(_ packets: [RejectPacket]) throws {
        guard !packets.isEmpty else { return }
        let data = Data(packets.map { $0.jsonLine + "\n" }.joined().utf8)
        try handle.withLock { h in
            if h == nil {
                let url = URL(fileURLWithPath: path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                h = try FileHandle(forWritingTo: url)
                try h?.seekToEnd()
            }
            try h?.write(contentsOf: data)
        }
    }

    public func close() {
        handle.withLock { h in
            try? h?.synchronize()
            try? h?.close()
            h = nil
        }
    }
}

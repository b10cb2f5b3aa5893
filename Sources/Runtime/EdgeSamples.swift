public import Columnar
import NodeKit
import Synchronization

/// What one output port of a node put out during a run: its schema, how many rows crossed it, and the first
/// few of them (the pipeline's `sampleRows`). The rows are taken before any edge's `where`/`select`, so every
/// edge leaving the port shows the same sample.
public struct EdgeSample: Sendable {
    public var node: String
    public var port: String
    public var schema: Schema
    /// Rows the node put out on the port in all (the sample holds at most `sampleRows` of them).
    public var rowsSeen: Int
    /// The first rows, in the order the node put them out; long texts are cut (see `EdgeSampler.maxCellCharacters`).
    public var rows: [[Value]]
    /// Where each row came from ("orders: orders.csv line 12"), when its batch knew (see `RowOrigin`).
    public var origins: [String?]

    public init(node: String, port: String, schema: Schema, rowsSeen: Int, rows: [[Value]], origins: [String?] = []) {
        self.node = node
        self.port = port
        self.schema = schema
        self.rowsSeen = rowsSeen
        self.rows = rows
        self.origins = origins
    }

    /// `{"columns": [{"name", "type"}], "rows": [[cell, …]], "origins": [text or null, …]}` with cells as JSON numbers
    /// and booleans, or text (as the API shows previewed rows); `origins` only when some row's origin is known.
    public var json: String {
        var out: [UInt8] = Array(#"{"columns":["#.utf8)
        for (i, field) in schema.fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"name":"#.utf8)
            JSONText.appendString(field.name, to: &out)
            out += Array(#","type":"#.utf8)
            JSONText.appendString(field.type.description, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out += Array(#"],"rows":["#.utf8)
        for (r, row) in rows.enumerated() {
            if r > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            for (c, value) in row.enumerated() {
                if c > 0 { out.append(UInt8(ascii: ",")) }
                switch value {
                case .null, .bool, .int: JSONText.appendValue(value, to: &out)
                case let .float(d) where d.isFinite: JSONText.appendValue(value, to: &out)
                default: JSONText.appendString(value.description, to: &out)
                }
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
        if origins.contains(where: { $0 != nil }) {
            out += Array(#","origins":["#.utf8)
            for (i, origin) in origins.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if let origin { JSONText.appendString(origin, to: &out) } else { out += Array("null".utf8) }
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// Keeps one output port's sample during a run. Called once per batch the node sends on the port: after the
/// sample is full (`limit` rows, or about `EdgeSampler.maxBytes`) that is one lock and an addition.
final class PortSampler: Sendable {
    let node: String
    let port: String
    let schema: Schema
    let limit: Int
    private let state = Mutex<(seen: Int, rows: [[Value]], origins: [String?], bytes: Int, full: Bool)>((0, [], [], 0, false))

    init(node: String, port: String, schema: Schema, limit: Int) {
        self.node = node
        self.port = port
        self.schema = schema
        self.limit = limit
    }

    func observe(_ batch: RecordBatch) {
        state.withLock { state in
            if !state.full {
                let taken = EdgeSampler.rows(of: batch, upTo: limit - state.rows.count, bytes: &state.bytes)
                state.rows += taken.rows
                state.origins += taken.origins
                state.full = state.rows.count >= limit || state.bytes >= EdgeSampler.maxBytes
            }
            state.seen += batch.count
        }
    }

    var sample: EdgeSample {
        state.withLock { EdgeSample(node: node, port: port, schema: schema, rowsSeen: $0.seen, rows: $0.rows, origins: $0.origins) }
    }
}

/// The samplers of a run's output ports, in pipeline order (node by node, ports as the node declares them).
struct EdgeSampler: Sendable {
    /// The most rows a pipeline may keep per port (`sampleRows`).
    static let maxRows = 1000
    /// Longer texts are cut in samples, so a sample stays small whatever the data holds.
    static let maxCellCharacters = 1000
    /// A sample (or a paused batch) stops taking rows once it holds about this much, however wide the rows.
    static let maxBytes = 1 << 20

    /// Up to `count` rows from the top of `batch`, cut to size, with their origins; stops once `bytes` (what the
    /// sample already holds) passes `maxBytes`, after row `keeping` at the earliest (a paused batch's matching row).
    static func rows(of batch: RecordBatch, upTo count: Int, bytes: inout Int, keeping: Int = -1) -> (rows: [[Value]], origins: [String?]) {
        var rows: [[Value]] = [], origins: [String?] = []
        var r = 0
        while r < min(count, batch.count), bytes < maxBytes || r <= keeping {
            let row = batch.columns.map { clipped($0.value(at: r)) }
            bytes += row.reduce(0) { total, value in
                switch value {
                case let .string(s), let .json(s): total + s.utf8.count + 16
                case let .bytes(b): total + b.count + 16
                default: total + 16
                }
            }
            rows.append(row)
            origins.append(batch.origin?.describe(r))
            r += 1
        }
        return (rows, origins)
    }

    let ports: [PortSampler]

    /// Samplers for every data output of every node (none for previews, or when `sampleRows` is 0).
    init(plan: ExecutionPlan) {
        let limit = min(plan.document.settings.sampleRows, Self.maxRows)
        guard plan.previewNode == nil, limit > 0 else { ports = []; return }
        ports = plan.nodes.flatMap { node in
            node.outputSchemas.keys.sorted { a, b in
                let order = node.spec.outputs.map(\.name)
                return (order.firstIndex(of: a) ?? Int.max, a) < (order.firstIndex(of: b) ?? Int.max, b)
            }.map { PortSampler(node: node.id, port: $0, schema: node.outputSchemas[$0]!, limit: limit) }
        }
    }

    func ports(of node: String) -> [String: PortSampler] {
        Dictionary(uniqueKeysWithValues: ports.filter { $0.node == node }.map { ($0.port, $0) })
    }

    var samples: [EdgeSample] { ports.map(\.sample) }

    static func clipped(_ value: Value) -> Value {
        switch value {
        case let .string(s) where s.utf8.count > maxCellCharacters: .string(String(s.prefix(maxCellCharacters)) + "…")
        case let .json(s) where s.utf8.count > maxCellCharacters: .string(String(s.prefix(maxCellCharacters)) + "…")
        case let .bytes(b) where b.count > maxCellCharacters: .bytes(Array(b.prefix(maxCellCharacters)))
        default: value
        }
    }
}

import BuiltinNodes
import Columnar
import NodeKit
import Synchronization

/// Shared observations of test nodes, keyed by the `key` setting so tests running in parallel do not mix.
public enum Probe {
    private static let state = Mutex<[String: [String: Int]]>([:])
    private static let logs = Mutex<[String: [String]]>([:])

    public static func add(_ key: String, _ name: String, _ n: Int = 1) {
        state.withLock { $0[key, default: [:]][name, default: 0] += n }
    }

    /// Adds to `name` and raises `max_name` to the new value if higher.
    public static func track(_ key: String, _ name: String, _ n: Int) {
        state.withLock { s in
            let value = s[key, default: [:]][name, default: 0] + n
            s[key, default: [:]][name] = value
            s[key, default: [:]]["max_" + name] = max(s[key]?["max_" + name] ?? 0, value)
        }
    }

    public static func value(_ key: String, _ name: String) -> Int { state.withLock { $0[key]?[name] ?? 0 } }

    public static func note(_ key: String, _ line: String) { logs.withLock { $0[key, default: []].append(line) } }
    public static func notes(_ key: String) -> [String] { logs.withLock { $0[key] ?? [] } }
}

/// `test.generate`: emits `batches` batches of `rows` rows (`n` int64, increasing); can fail `failures`
/// times with a retryable error before emitting anything, or hang until cancelled.
public struct GenerateNode: NodeType {
    static let key = Field<String>("key", summary: "Probe key.", default: "default")
    static let batches = Field<Int>("batches", summary: "Batches to emit.", default: 3)
    static let rows = Field<Int>("rows", summary: "Rows per batch.", default: 10)
    static let failures = Field<Int>("failures", summary: "Retryable failures before succeeding.", default: 0)
    static let hang = Field<Bool>("hang", summary: "Wait until cancelled.", default: false)
    public static let spec = NodeSpec(id: "test.generate", version: 1, category: .source, title: "Generate", summary: "Test source.",
                                      inputs: [], outputs: [.data("out")], fields: [key.spec, batches.spec, rows.spec, failures.spec, hang.spec])
    let key: String, batches: Int, rows: Int, failures: Int, hang: Bool
    public init(settings: Settings) throws(ConfigError) {
        key = try settings[Self.key]; batches = try settings[Self.batches]; rows = try settings[Self.rows]
        failures = try settings[Self.failures]; hang = try settings[Self.hang]
    }
    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: ["out": Schema([SchemaField("n", .int64)])], work: self)
    }
}

extension GenerateNode: NodeWork {
    public func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        Probe.add(key, "attempts")
        if Probe.value(key, "attempts") <= failures {
            throw NodeError(code: "flaky", message: "transient failure", isRetryable: true)
        }
        if hang { try await Task.sleep(for: .seconds(3600)) }
        var next: Int64 = 0
        for _ in 0..<batches {
            var builder = ColumnBuilder(type: .int64, capacity: rows)
            for _ in 0..<rows { builder.appendInt64(next); next += 1 }
            Probe.track(key, "in_flight", 1)
            try await context.emit(RecordBatch(schema: Schema([SchemaField("n", .int64)]), columns: [builder.finish()]), on: "out")
        }
        return nil
    }
}

/// `test.fail`: passes batches through, then fails (not retryable) after `after` batches.
public struct FailNode: NodeType, NodeWork {
    static let after = Field<Int>("after", summary: "Batches to pass before failing.", default: 0)
    public static let spec = NodeSpec(id: "test.fail", version: 1, category: .transform, title: "Fail", summary: "Test failure.",
                                      inputs: [.data("in")], outputs: [.data("out")], fields: [after.spec])
    let after: Int
    public init(settings: Settings) throws(ConfigError) { after = try settings[Self.after] }
    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan { NodePlan(outputs: ["out": try request.input()], work: self) }
    public func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        var seen = 0
        for try await batch in context.input("in") {
            if seen == after { throw NodeError(code: "boom", message: "deliberate failure") }
            seen += 1
            try await context.emit(batch, on: "out")
        }
        if seen <= after { throw NodeError(code: "boom", message: "deliberate failure") }
        return nil
    }
}

/// `test.sink`: counts rows; its pending commit records commit or abort in the probe.
public struct SinkNode: NodeType {
    static let key = Field<String>("key", summary: "Probe key.", default: "default")
    static let label = Field<String>("label", summary: "Name used in probe notes.", default: "sink")
    public static let spec = NodeSpec(id: "test.sink", version: 1, category: .sink, title: "Sink", summary: "Test sink.",
                                      inputs: [.data("in")], outputs: [], fields: [key.spec, label.spec], capabilities: [.transactionalSink])
    let key: String, label: String
    public init(settings: Settings) throws(ConfigError) { key = try settings[Self.key]; label = try settings[Self.label] }
    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan { NodePlan(outputs: [:], work: Work(key: key, label: label)) }

    struct Work: NodeWork {
        let key: String, label: String
        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            Probe.note(key, "\(label) started")
            for try await batch in context.input("in") {
                Probe.track(key, "in_flight", -1)
                Probe.add(key, "\(label)_rows", batch.count)
            }
            return Pending(key: key, label: label)
        }
    }

    struct Pending: PendingCommit {
        let key: String, label: String
        func commit() async throws { Probe.note(key, "\(label) committed") }
        func abort() async { Probe.note(key, "\(label) aborted") }
    }
}

/// The builtin nodes plus the test nodes.
public let testRegistry = NodeRegistry(BuiltinNodes.all + [GenerateNode.self, FailNode.self, SinkNode.self], connectors: BuiltinNodes.connectors)

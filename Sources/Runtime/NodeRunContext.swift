import Columnar
import Foundation
import NodeKit
import Synchronization

/// Collects the first rows a previewed node emits.
final class PreviewCollector: Sendable {
    /// What a preview keeps of the previewed node's output.
    enum Goal: Sendable {
        /// Its first rows.
        case rows(limit: Int)
        /// The distinct non-NULL values of a column after an edge's filter (see `ValueDiscovery`); the preview
        /// stops once there are more than `limit`, or once it saw `rows` rows.
        case distinct(column: String, edge: EdgeTransform?, limit: Int, rows: Int?)
    }

    let goal: Goal
    private let batches = Mutex<[RecordBatch]>([])
    private let values = Mutex<(found: Set<Value>, rows: Int)>(([], 0))

    init(_ goal: Goal) { self.goal = goal }

    /// Adds a batch; true once the goal is met (rows held) or overrun (values found).
    func add(_ batch: RecordBatch) -> Bool {
        switch goal {
        case let .rows(limit):
            return batches.withLock { held in
                let have = held.reduce(0) { $0 + $1.count }
                if have < limit { held.append(batch.slice(0..<min(batch.count, limit - have))) }
                return held.reduce(0) { $0 + $1.count } >= limit
            }
        case let .distinct(column, edge, limit, budget):
            let rows = edge.map { $0.apply(batch).batch } ?? batch
            guard let index = rows.schema.index(of: column) else { return false }
            let values = rows.columns[index]
            return self.values.withLock { state in
                let take = budget.map { min(rows.count, max(0, $0 - state.rows)) } ?? rows.count
                for r in 0..<take where !values.isNull(r) {
                    state.found.insert(values.value(at: r))
                    if state.found.count > limit { return true }
                }
                state.rows += take
                return budget.map { state.rows >= $0 } ?? false
            }
        }
    }

    var collected: [RecordBatch] { batches.withLock { $0 } }
    var distinct: [Value] { Array(values.withLock { $0.found }) }
}

/// The runtime's side of `NodeContext` for one node in one run.
struct NodeRunContext: NodeContext {
    let node: String
    let runID: String
    let traceID: String
    let isPreview: Bool
    let inputs: [String: BoundedChannel<RecordBatch>]
    let outputs: [String: [EdgeOutput]]
    let coordinator: RunCoordinator
    let events: any RunEventSink
    let rejects: any RejectStore
    let settings: RunSettings
    let collector: PreviewCollector?
    let collectedPort: String?
    let pipeline: String
    /// The schema of the `rejected` port when it is connected: rejected records then also flow downstream.
    let rejectedSchema: Schema?
    /// The samplers of this node's output ports (empty when the run keeps no samples).
    var samplers: [String: PortSampler] = [:]
    /// Set in a debug run: batches pause at breakpoints before this node takes them and before they cross its edges.
    var debugger: RunDebugger?

    var runFailure: String? {
        switch coordinator.machineState {
        case let .failing(reason), let .failed(reason): reason
        default: nil
        }
    }
    /// Nodes upstream of this one (through data edges), whose published state a sink commits.
    let ancestors: [String]
    /// State stores downstream of this node, where its committed state lives.
    let stores: [any StateStore]

    func publishState(_ value: String) { coordinator.publishState(node, value) }

    var hasStateStore: Bool { !stores.isEmpty }

    func upstreamState() -> [StateEntry] {
        coordinator.states(of: ancestors).map { StateEntry(pipeline: pipeline, node: $0.0, value: $0.1) }
    }

    func committedState() async throws -> [String] {
        var values: [String] = []
        for store in stores {
            if let value = try await store.committedState(pipeline: pipeline, node: node) { values.append(value) }
        }
        return values
    }

    func input(_ port: String) -> BatchStream {
        guard let channel = inputs[port] else { return BatchStream { nil } }
        let coordinator = coordinator, node = node, debugger = debugger
        return BatchStream {
            let batch = try await channel.receive()
            if let batch {
                if let debugger { try await debugger.check(.node(node), node: node, batch: batch) }
                coordinator.add(node, recordsIn: batch.count)
            }
            return batch
        }
    }

    func emit(_ batch: RecordBatch, on port: String) async throws {
        guard batch.count > 0 else { return }
        // A source's rows are traced to it: its id goes with the lines it gave, or with their row numbers in its
        // output (database tables, APIs).
        var batch = batch
        if batch.origin != nil, batch.origin?.node == nil { batch.origin?.node = node }
        if batch.origin == nil, inputs.isEmpty {
            let before = Int64(coordinator.counts(node).recordsOut)
            batch.origin = RowOrigin(node: node, unit: .row, positions: (1...Int64(batch.count)).map { before + $0 })
        }
        // A source takes no batches: a breakpoint on it pauses before each batch it puts out.
        if let debugger, inputs.isEmpty { try await debugger.check(.node(node), node: node, batch: batch) }
        coordinator.add(node, recordsOut: batch.count)
        if let collector, port == collectedPort, collector.add(batch) {
            coordinator.finishPreview()
            throw RunAborted()
        }
        try await send(batch, on: port)
    }

    /// Sends a batch along every edge leaving `port`, through each edge's filter.
    private func send(_ batch: RecordBatch, on port: String) async throws {
        samplers[port]?.observe(batch)
        var wanted = false
        for output in outputs[port] ?? [] {
            var crossing = batch
            if let transform = output.transform {
                let (kept, errors) = transform.apply(batch)
                if !errors.isEmpty {
                    try await reject(RejectedRecord.rows(of: batch, errors: errors, field: "edge \(output.edge) where", firstRow: 0))
                }
                // An edge that filters everything out still counts as wanting more rows.
                if kept.count == 0 { if !output.channel.isClosedForReading { wanted = true }; continue }
                crossing = kept
            }
            if let debugger { try await debugger.check(output.point, node: node, batch: crossing) }
            if try await output.channel.send(crossing) { wanted = true }
        }
        if !wanted, collector == nil, !outputs.isEmpty, outputs.values.allSatisfy({ $0.allSatisfy(\.channel.isClosedForReading) }) {
            throw DownstreamClosed()
        }
    }

    func closeInput(_ port: String) { inputs[port]?.closeForReading() }

    func reject(_ records: [RejectedRecord]) async throws {
        guard !records.isEmpty else { return }
        let total = coordinator.addRejected(node, records.count)
        do {
            try rejects.write(records.map { RejectPacket(runID: runID, traceID: traceID, node: node, record: $0) })
        } catch {
            throw NodeError(code: "reject_store_failed", message: "cannot write rejected records", cause: "\(error)")
        }
        // Routed downstream, the records are handled by the pipeline: the run's reject policy does not apply to them.
        if let rejectedSchema {
            try await send(RejectedPort.batch(records, schema: rejectedSchema, node: node, traceID: traceID), on: RejectedPort.name)
            return
        }
        let first = records[0]
        let where_ = [first.source.map { URL(fileURLWithPath: $0).lastPathComponent }, first.line.map { "line \($0)" }, first.row.map { "row \($0)" }]
            .compactMap { $0 }.joined(separator: " ")
        if settings.onRecordError == .fail {
            throw NodeError(code: "record_error", message: "record rejected (\(where_.isEmpty ? "" : where_ + ": ")\(first.message)) and onRecordError is 'fail'")
        }
        if let max = settings.maxRejected, total > max {
            throw NodeError(code: "max_rejected_exceeded", message: "\(total) records rejected, more than maxRejected = \(max); last: \(where_.isEmpty ? "" : where_ + ": ")\(first.message)")
        }
    }

    func log(_ level: LogLevel, _ message: String) {
        events.send(.log(node: node, level: level, message: message))
    }

    func reportStep(_ step: NodeStep) {
        events.send(.step(node: node, step: step))
    }

    func addBytes(_ count: Int) { coordinator.add(node, bytes: count) }

    func expectBytes(_ total: Int) { coordinator.expect(node, bytes: total) }
}

/// One edge leaving an output port: the downstream channel, and what the edge does to batches on the way.
struct EdgeOutput: Sendable {
    let channel: BoundedChannel<RecordBatch>
    let transform: EdgeTransform?
    /// `from → to`, for rejects of the edge's condition.
    let edge: String
    /// The edge as a debug run's breakpoints name it.
    let point: Breakpoint.Point
}

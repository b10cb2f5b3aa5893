public import Columnar
import Expressions
import NodeKit
import Synchronization

/// Where a debug run pauses: before a node takes its next batch, or when a batch is about to cross an edge;
/// optionally only for a batch holding a row where `condition` is true.
///
/// Written `NODE`, `NODE:CONDITION`, `FROM.PORT->TO.PORT` or `FROM.PORT->TO.PORT:CONDITION` (node ids hold no
/// `:`, so the first one ends the point).
public struct Breakpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Point: Sendable, Hashable, CustomStringConvertible {
        case node(String)
        /// An edge as `from.port->to.port`.
        case edge(from: String, to: String)

        public var description: String {
            switch self {
            case let .node(id): id
            case let .edge(from, to): "\(from)->\(to)"
            }
        }
    }

    public var point: Point
    public var condition: String?

    public init(point: Point, condition: String? = nil) {
        self.point = point
        self.condition = condition
    }

    /// Reads the written form; nil when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let target = parts[0].trimmingCharacters(in: .whitespaces)
        let condition = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil
        if condition?.isEmpty == true { return nil }
        if target.contains("->") {
            let ends = target.components(separatedBy: "->").map { $0.trimmingCharacters(in: .whitespaces) }
            guard ends.count == 2, ends.allSatisfy({ $0.split(separator: ".").count == 2 }) else { return nil }
            point = .edge(from: ends[0], to: ends[1])
        } else {
            guard !target.isEmpty, !target.contains("."), !target.contains(" ") else { return nil }
            point = .node(target)
        }
        self.condition = condition
    }

    public var description: String { point.description + (condition.map { ":" + $0 } ?? "") }

    /// The written forms, for errors about a breakpoint that is none of them.
    public static let forms = "NODE, NODE:CONDITION, FROM.PORT->TO.PORT or FROM.PORT->TO.PORT:CONDITION"
}

/// A paused debug run: where, the batch there (up to `DebugPause.maxRows` rows, the first matching row
/// among them), and which row met the breakpoint's condition.
public struct DebugPause: Sendable {
    /// Counts the pauses of a run, from 1.
    public var sequence: Int
    public var point: Breakpoint.Point
    /// The node whose batch it is (the node at a node breakpoint, the upstream node at an edge).
    public var node: String
    public var schema: Schema
    /// Rows in the whole batch.
    public var batchRows: Int
    /// The batch's row number (from 0) of `rows[0]`.
    public var firstRow: Int
    public var rows: [[Value]]
    /// Where each shown row came from, when known (see `RowOrigin`).
    public var origins: [String?]
    /// The row (in the batch, from 0) where the condition held; nil for a breakpoint without a condition or a step.
    public var matchingRow: Int?
    /// Why it paused: the breakpoint as written, or "step".
    public var reason: String

    public static let maxRows = 50
}

/// What a debug run's controller may do while it is paused.
public enum DebugCommand: String, Sendable, Codable, CaseIterable {
    /// Lets the paused batch through; the next batch at the same point pauses again.
    case step
    /// Runs on to the next breakpoint.
    case `continue`
    /// Cancels the run (sinks roll back as for any failed run).
    case stop
}

/// Pauses a debug run at its breakpoints and lets it go on when told. One pause is current at a time; other
/// points that reach a breakpoint meanwhile wait behind it, in order.
///
/// The run's nodes call `check` at each point (inputs of nodes, batches crossing edges); with no breakpoint
/// and no step at a point that is a dictionary look-up.
public final class RunDebugger: Sendable {
    /// A breakpoint bound to the schema at its point.
    struct Armed: Sendable {
        let breakpoint: Breakpoint
        /// By the schema's columns, as the same point may see several schemas (a node's input ports).
        let conditions: [Schema: BoundExpression]
    }

    private struct Waiting {
        let pause: DebugPause
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        /// After a step: the point whose next batch pauses whatever the breakpoints say.
        var stepAt: Breakpoint.Point?
        var stopped = false
        var sequence = 0
    }

    public let breakpoints: [Breakpoint]
    private let armed: [Breakpoint.Point: [Armed]]
    private let environment: ExpressionEnvironment
    private let state = Mutex(State())
    private let stepping = Atomic<Bool>(false)
    private let onPause: @Sendable (DebugPause?) -> Void

    /// Binds every breakpoint's condition at its point in `plan`; errors name the breakpoint. `onPause` hears each
    /// pause as it becomes current, and nil when the run goes on.
    public init(breakpoints: [Breakpoint], plan: ExecutionPlan, onPause: @escaping @Sendable (DebugPause?) -> Void) throws(ConfigErrors) {
        var armed: [Breakpoint.Point: [Armed]] = [:]
        var problems: [ConfigError] = []
        let environment = ExpressionEnvironment(parameters: plan.parameters)
        for breakpoint in breakpoints {
            let schemas: [Schema]
            switch breakpoint.point {
            case let .node(id):
                guard let node = plan.node(id) else {
                    problems.append(ConfigError(code: "unknown_node", message: "breakpoint \(breakpoint): there is no node '\(id)'", field: "break"))
                    continue
                }
                let inputs = node.inputSchemas.values.flatMap { $0 }
                schemas = node.isSource ? Array(node.outputSchemas.values) : inputs
            case let .edge(from, to):
                guard let edge = plan.dataEdges.first(where: { "\($0.from)" == from && "\($0.to)" == to }),
                      let upstream = plan.node(edge.from.node)?.outputSchemas[edge.from.port] else {
                    problems.append(ConfigError(code: "unknown_edge", message: "breakpoint \(breakpoint): there is no data edge \(from) → \(to)", field: "break"))
                    continue
                }
                schemas = [plan.edgeTransforms[EdgeTransform.key(edge)]?.schema ?? upstream]
            }
            var conditions: [Schema: BoundExpression] = [:]
            if let text = breakpoint.condition {
                var lastError: String?
                for schema in Set(schemas) {
                    do { conditions[schema] = try Expression(text).bindPredicate(to: schema, environment: environment) } catch { lastError = error.description }
                }
                if conditions.isEmpty {
                    problems.append(ConfigError(code: "invalid_expression", message: "breakpoint \(breakpoint): \(lastError ?? "no data reaches it")", field: "break"))
                    continue
                }
            }
            armed[breakpoint.point, default: []].append(Armed(breakpoint: breakpoint, conditions: conditions))
        }
        guard problems.isEmpty else { throw ConfigErrors(problems) }
        self.breakpoints = breakpoints
        self.armed = armed
        self.environment = environment
        self.onPause = onPause
    }

    /// Called with each batch at `point` (by `node`): returns at once unless a breakpoint or a step pauses it here,
    /// else when the controller says step or continue. Throws `RunAborted` once the controller stopped the run.
    func check(_ point: Breakpoint.Point, node: String, batch: RecordBatch) async throws {
        let candidates = armed[point]
        guard candidates != nil || stepping.load(ordering: .relaxed) else { return }
        var reason: String?
        var matching: Int?
        let stepped = state.withLock { state -> Bool in
            guard state.stepAt == point else { return false }
            state.stepAt = nil
            stepping.store(false, ordering: .relaxed)
            return true
        }
        if stepped { reason = "step" }
        for candidate in candidates ?? [] where reason == nil {
            guard candidate.breakpoint.condition != nil else { reason = candidate.breakpoint.description; break }
            guard let condition = candidate.conditions[batch.schema] else { continue }
            let evaluation = condition.evaluate(batch)
            let values = evaluation.column.boolValues
            if let row = (0..<batch.count).first(where: { values[$0] && !evaluation.column.isNull($0) && evaluation.rowErrors[$0] == nil }) {
                reason = candidate.breakpoint.description
                matching = row
            }
        }
        guard let reason else { return }
        try await pause(point: point, node: node, batch: batch, matching: matching, reason: reason)
    }

    private func pause(point: Breakpoint.Point, node: String, batch: RecordBatch, matching: Int?, reason: String) async throws {
        // The rows shown start a little before the matching row, so it is on screen with its neighbours.
        let first = matching.map { max(0, min($0 - 5, batch.count - DebugPause.maxRows)) } ?? 0
        let shown = batch.slice(first..<min(batch.count, first + DebugPause.maxRows))
        var bytes = 0
        let (rows, origins) = EdgeSampler.rows(of: shown, upTo: shown.count, bytes: &bytes, keeping: matching.map { $0 - first } ?? 0)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let current: DebugPause? = state.withLock { state in
                if state.stopped {
                    continuation.resume(throwing: RunAborted())
                    return nil
                }
                state.sequence += 1
                let pause = DebugPause(sequence: state.sequence, point: point, node: node, schema: batch.schema, batchRows: batch.count, firstRow: first,
                                       rows: rows, origins: origins, matchingRow: matching, reason: reason)
                state.waiting.append(Waiting(pause: pause, continuation: continuation))
                return state.waiting.count == 1 ? pause : nil
            }
            if let current { onPause(current) }
        }
    }

    /// The pause the controller sees now, if the run is paused.
    public var current: DebugPause? { state.withLock { $0.waiting.first?.pause } }

    /// Obeys the controller: lets the current pause go (step, continue) or stops the run. Returns false when the
    /// run is not paused (nothing to step or continue).
    @discardableResult
    public func command(_ command: DebugCommand) -> Bool {
        let (released, next, stoppedAll): (Waiting?, DebugPause?, [Waiting]) = state.withLock { state in
            if command == .stop {
                state.stopped = true
                let all = state.waiting
                state.waiting = []
                return (nil, nil, all)
            }
            guard !state.waiting.isEmpty else { return (nil, nil, []) }
            let released = state.waiting.removeFirst()
            if command == .step {
                state.stepAt = released.pause.point
                stepping.store(true, ordering: .relaxed)
            }
            return (released, state.waiting.first?.pause, [])
        }
        for waiting in stoppedAll { waiting.continuation.resume(throwing: RunAborted()) }
        if command == .stop { onPause(nil); return true }
        guard let released else { return false }
        onPause(next)
        released.continuation.resume()
        return true
    }
}

extension DebugPause {
    /// The pause as JSON: `sequence`, `point`, `node`, `reason`, `batch_rows`, `first_row`, `matching_row`, and the
    /// shown rows with their `columns` (cells as the API shows previewed rows).
    public var json: String {
        let rowsJSON = EdgeSample(node: node, port: "", schema: schema, rowsSeen: batchRows, rows: rows, origins: origins).json
        let fields: [(String, Value)] = [
            ("sequence", .int(Int64(sequence))), ("point", .string(point.description)), ("node", .string(node)), ("reason", .string(reason)),
            ("batch_rows", .int(Int64(batchRows))), ("first_row", .int(Int64(firstRow))), ("matching_row", matchingRow.map { .int(Int64($0)) } ?? .null),
            ("data", .json(rowsJSON)),
        ]
        return JSONText.object(fields)
    }
}

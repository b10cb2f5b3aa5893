public import Columnar
public import Expressions

/// A node type: declared once by its `spec`, configured from settings, planned against input schemas.
///
/// Planning happens before any data moves: `plan` checks settings against the input schemas,
/// returns the output schemas, and the work to run.
public protocol NodeType: Sendable {
    static var spec: NodeSpec { get }
    init(settings: Settings) throws(ConfigError)
    /// Async because sources may ask a database for a table's columns.
    func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan
    /// The input columns this node reads when its consumers need `demand` of its output columns
    /// (`nil` = every column). Used to push projection down to sources.
    func requiredInputColumns(for demand: Set<String>?) -> Set<String>?
}

extension NodeType {
    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? { nil }
}

/// What the planner knows when it plans one node.
public struct PlanRequest: Sendable {
    public let node: String
    /// Input schemas by port; a fan-in port has one schema per incoming edge.
    public let inputs: [String: [Schema]]
    public let environment: ExpressionEnvironment
    /// Columns the consumers need; a source with the `projection` capability may produce only these.
    public let projection: Set<String>?
    /// Finds the values of an input column before the run (nil where the planner cannot, e.g. in unit tests).
    public let discover: ValueDiscovery?

    public init(node: String, inputs: [String: [Schema]], environment: ExpressionEnvironment, projection: Set<String>?, discover: ValueDiscovery? = nil) {
        self.node = node
        self.inputs = inputs
        self.environment = environment
        self.projection = projection
        self.discover = discover
    }

    /// The schema arriving on a single-edge port.
    public func input(_ port: String = "in") throws(ConfigError) -> Schema {
        guard let schemas = inputs[port], let first = schemas.first else {
            throw ConfigError(code: "unconnected_port", message: "input port '\(port)' is not connected", node: node, field: port)
        }
        return first
    }

    /// Binds an expression setting against a schema; errors point at the setting and the span inside it.
    public func bind(_ expression: Expression, to schema: Schema, field: String, location: SourceLocation?, predicate: Bool = false) throws(ConfigError) -> BoundExpression {
        do {
            return predicate ? try expression.bindPredicate(to: schema, environment: environment) : try expression.bind(to: schema, environment: environment)
        } catch {
            throw ConfigError(code: error.code, message: error.description, location: location, node: node, field: field)
        }
    }
}

/// The distinct non-NULL values of column `column` arriving on input port `port`, at most `limit` of them (more
/// means there are more), found before the run by running the part of the pipeline that feeds the port: that part
/// then reads its input twice. For nodes whose output columns depend on the data (a pivot without listed values).
public typealias ValueDiscovery = @Sendable (_ port: String, _ column: String, _ limit: Int) async throws(ConfigError) -> [Value]

/// The outcome of planning a node: its output schemas by port, and its work.
public struct NodePlan: Sendable {
    public let outputs: [String: Schema]
    public let work: any NodeWork
    /// What planning noticed that the user should know, though nothing is wrong (e.g. a column inferred as
    /// string because of one odd value). Shown by checks, previews and the editor.
    public var notes: [String]

    public init(outputs: [String: Schema], work: any NodeWork, notes: [String] = []) {
        self.outputs = outputs
        self.work = work
        self.notes = notes
    }
}

/// The work a planned node does during a run. Called once per attempt.
///
/// A sink returns a `PendingCommit`: the runtime commits it only when every upstream node finished
/// and the run is still healthy, or aborts it otherwise (e.g. a file sink renames its temporary file
/// on commit and deletes it on abort).
public protocol NodeWork: Sendable {
    func run(_ context: any NodeContext) async throws -> (any PendingCommit)?
}

/// Output a sink wrote during the run but has not yet made visible.
public protocol PendingCommit: Sendable {
    /// Makes the output visible atomically. Called at most once.
    func commit() async throws
    /// Discards the output. Called at most once, instead of `commit`.
    func abort() async
}

/// Severity of a run log line.
public enum LogLevel: String, Sendable, Comparable, CaseIterable, Codable {
    case debug, info, warning, error

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What a running node sees of the runtime: its inputs, outputs, the reject store, logs and counters.
public protocol NodeContext: Sendable {
    var node: String { get }
    var runID: String { get }
    var traceID: String { get }
    /// True in `sluice preview`: sinks must not write anything.
    var isPreview: Bool { get }
    /// The batches arriving on an input port, ending when every upstream producer finished.
    func input(_ port: String) -> BatchStream
    /// Sends a batch to every edge leaving `port`; suspends while a consumer is behind (backpressure).
    func emit(_ batch: RecordBatch, on port: String) async throws
    /// Hands failed records to the reject store; throws when the run's reject policy says stop.
    func reject(_ records: [RejectedRecord]) async throws
    /// Publishes the state a source reached (its cursor); sinks downstream commit it with their data.
    func publishState(_ value: String)
    /// The state published by the sources upstream of this node (for a sink, once its input ended).
    func upstreamState() -> [StateEntry]
    /// The state last committed for this node by the state stores downstream of it, one value per store
    /// (empty on a first run or when nothing downstream stores state).
    func committedState() async throws -> [String]
    /// Whether a state store downstream commits what this node publishes (`publishState`) with its data: an
    /// incremental pipeline into a database.
    var hasStateStore: Bool { get }
    /// Stops reading a port early (e.g. `limit` has enough rows); upstream producers are told to stop.
    func closeInput(_ port: String)
    func log(_ level: LogLevel, _ message: String)
    /// Adds to the node's byte counter (bytes read by sources, written by sinks).
    func addBytes(_ count: Int)
    /// Declares how many bytes this node expects to read in all (a file source's file sizes), so viewers
    /// can show its progress as `bytes / expected`; nodes that cannot know leave it unset.
    func expectBytes(_ total: Int)
    /// The pipeline's name, for messages.
    var pipeline: String { get }
    /// Why the run is failing (the first failure), or nil while it is healthy: what a failure branch reports.
    var runFailure: String? { get }
    /// Reports a step of this node's work (started, then ended) for the run page and the command line.
    func reportStep(_ step: NodeStep)
}

extension NodeContext {
    public var hasStateStore: Bool { false }
    public var pipeline: String { "" }
    public var runFailure: String? { nil }
    public func reportStep(_ step: NodeStep) {}
}

/// A source's state for one pipeline, as committed in a destination: `key` is `pipeline/node`.
public struct StateEntry: Sendable, Hashable {
    public let pipeline: String
    public let node: String
    /// Opaque to the runtime (sources store JSON).
    public let value: String

    public init(pipeline: String, node: String, value: String) {
        self.pipeline = pipeline
        self.node = node
        self.value = value
    }
}

/// Work of a sink that stores source state in its destination, in the same transaction as the data;
/// sources downstream-connected to it read their last committed state from it.
public protocol StateStore: NodeWork {
    /// The last committed state of `node` in `pipeline`, if any.
    func committedState(pipeline: String, node: String) async throws -> String?
    /// Forgets the committed state of `node` in `pipeline` (its next run starts from the beginning); false when there was none.
    func resetState(pipeline: String, node: String) async throws -> Bool
}

/// Thrown by `emit` when no consumer wants more rows (every downstream node closed its input).
/// A source may let it propagate: the runtime treats it as a normal end.
public struct DownstreamClosed: Error, Sendable {
    public init() {}
}

/// The batches of one input port as an async sequence.
public struct BatchStream: AsyncSequence, Sendable {
    public typealias Element = RecordBatch
    let next: @Sendable () async throws -> RecordBatch?

    public init(next: @escaping @Sendable () async throws -> RecordBatch?) { self.next = next }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let next: @Sendable () async throws -> RecordBatch?
        public mutating func next() async throws -> RecordBatch? { try await next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(next: next) }
}

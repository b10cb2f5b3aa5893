public import Columnar
public import Expressions

/// A pipeline as written in YAML or JSON: the one format the editor saves, the CLI runs and git holds.
public struct PipelineDocument: Sendable {
    public static let apiVersion = "sluice/v1"

    public var name: String
    public var description: String?
    public var parameters: [ParameterDeclaration]
    public var settings: RunSettings
    public var nodes: [NodeDeclaration]
    public var edges: [EdgeDeclaration]
    public var layout: [String: [Double]]
    /// The `triggers:` list as written (the scheduler reads and checks it; runs ignore it).
    public var triggers: [Setting] = []
    /// The `tests:` list as written: the pipeline's own tests (`sluice test`, the server's tests route; runs ignore it).
    public var tests: [Setting] = []
    /// Who hears about its runs (`notify:`), delivered by the worker or `sluice run` once a run ended.
    public var notify: [RunNotification] = []
    /// The file the document came from, used in error locations and to resolve relative paths.
    public var file: String?

    public init(name: String, description: String? = nil, parameters: [ParameterDeclaration] = [], settings: RunSettings = .init(),
                nodes: [NodeDeclaration], edges: [EdgeDeclaration], layout: [String: [Double]] = [:], file: String? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.settings = settings
        self.nodes = nodes
        self.edges = edges
        self.layout = layout
        self.file = file
    }

    public func node(_ id: String) -> NodeDeclaration? { nodes.first { $0.id == id } }
}

/// A typed run parameter with an optional default; `--param name=value` overrides it.
public struct ParameterDeclaration: Sendable {
    public var name: String
    public var type: DataType
    public var defaultValue: Value?
    public var description: String?
    public var location: SourceLocation?

    public init(name: String, type: DataType, defaultValue: Value? = nil, description: String? = nil, location: SourceLocation? = nil) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.description = description
        self.location = location
    }
}

/// What happens to a record that fails (bad CSV line, failed cast, division by zero).
public enum RecordErrorPolicy: String, Sendable, CaseIterable {
    /// Send it to the reject store and carry on, up to `maxRejected`.
    case reject
    /// Fail the run on the first record error.
    case fail
}

/// Run-wide settings from the document's `settings:` block.
public struct RunSettings: Sendable {
    /// How many nodes may run their own work at once (0 = no limit).
    public var maxConcurrency: Int
    public var onRecordError: RecordErrorPolicy
    /// The run fails once more than this many records were rejected (nil = no limit).
    public var maxRejected: Int?
    /// Rows kept per node output as the run's edge samples (0 = none).
    public var sampleRows: Int

    public init(maxConcurrency: Int = 0, onRecordError: RecordErrorPolicy = .reject, maxRejected: Int? = nil, sampleRows: Int = 20) {
        self.maxConcurrency = maxConcurrency
        self.onRecordError = onRecordError
        self.maxRejected = maxRejected
        self.sampleRows = sampleRows
    }
}

/// `type: name` or `type: name@version` (no version means the newest).
public struct NodeTypeReference: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var version: Int?

    public init(name: String, version: Int? = nil) {
        self.name = name
        self.version = version
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.count <= 2, !parts[0].isEmpty else { return nil }
        name = String(parts[0])
        if parts.count == 2 {
            guard let v = Int(parts[1]), v > 0 else { return nil }
            version = v
        }
    }

    public var description: String { version.map { "\(name)@\($0)" } ?? name }
}

/// Retry policy for node-level retryable errors: `retry: {attempts: 3, backoff: 2s}`.
public struct RetrySettings: Sendable, Hashable {
    /// Total attempts including the first.
    public var attempts: Int
    /// Delay before the first retry; doubles each time up to `maxBackoff`.
    public var backoff: Duration
    public var maxBackoff: Duration

    public init(attempts: Int = 1, backoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(60)) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }
}

/// One node of the graph as declared.
public struct NodeDeclaration: Sendable {
    public var id: String
    public var type: NodeTypeReference
    public var settings: Setting
    public var retry: RetrySettings?
    public var timeout: Duration?
    public var location: SourceLocation?

    public init(id: String, type: NodeTypeReference, settings: Setting = Setting(.map([])), retry: RetrySettings? = nil, timeout: Duration? = nil, location: SourceLocation? = nil) {
        self.id = id
        self.type = type
        self.settings = settings
        self.retry = retry
        self.timeout = timeout
        self.location = location
    }
}

/// `node.port`.
public struct PortReference: Sendable, Hashable, CustomStringConvertible {
    public var node: String
    public var port: String

    public init(node: String, port: String) {
        self.node = node
        self.port = port
    }

    public var description: String { "\(node).\(port)" }
}

/// Data edges carry batches; signal edges only order execution ("after A committed, start B").
public enum EdgeKind: String, Sendable, CaseIterable {
    case data, signal
}

public struct EdgeDeclaration: Sendable {
    public var from: PortReference
    public var to: PortReference
    public var kind: EdgeKind
    /// Data edges only: rows that pass (`where: "amount > 0"`), evaluated on the upstream's columns.
    public var filter: Expression?
    /// Data edges only: the columns that cross the edge, in this order (`select: [id, amount]`).
    public var select: [String]?
    public var location: SourceLocation?

    public init(from: PortReference, to: PortReference, kind: EdgeKind = .data, filter: Expression? = nil, select: [String]? = nil, location: SourceLocation? = nil) {
        self.from = from
        self.to = to
        self.kind = kind
        self.filter = filter
        self.select = select
        self.location = location
    }

    /// Whether the edge filters rows or columns.
    public var transforms: Bool { filter != nil || select != nil }
}

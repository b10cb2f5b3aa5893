/// Where a node type sits in the palette and the docs.
public enum NodeCategory: String, Sendable, CaseIterable {
    case source, transform, sink, utility
}

/// A port of a node type: data ports carry batches, signal ports only order execution.
public struct PortSpec: Sendable, Hashable {
    public let name: String
    public let kind: EdgeKind
    public let summary: String
    /// A data input that may be left unconnected (a notification about the run needs no rows).
    public var isOptional = false

    public static func data(_ name: String, _ summary: String = "", optional: Bool = false) -> PortSpec {
        var port = PortSpec(name: name, kind: .data, summary: summary)
        port.isOptional = optional
        return port
    }
    public static func signal(_ name: String, _ summary: String = "") -> PortSpec { PortSpec(name: name, kind: .signal, summary: summary) }
}

/// What a node type can do, for the planner and the UI.
public enum Capability: String, Sendable, Hashable, CaseIterable {
    /// Accepts pushed-down column projection.
    case projection
    /// Writes outside the run and commits at the end (disabled in preview).
    case transactionalSink
    /// Delivers as it goes to a receiver that has no transaction (an API, a chat): what was sent stays sent
    /// if the run fails later (disabled in preview; idempotency keys make retries safe).
    case immediateDelivery
    /// Accepts several data edges into one input port.
    case fanIn
    /// Rejects bad records (kept in the run's reject store): the node has an optional `rejected` output port that,
    /// when connected, also sends them downstream as rows (dead-letter routing).
    case rejects
}

/// Execution defaults a node declaration may override (`retry:`, `timeout:`).
public struct ExecutionDefaults: Sendable, Hashable {
    public var timeout: Duration?
    public var retry: RetrySettings

    public init(timeout: Duration? = nil, retry: RetrySettings = RetrySettings(attempts: 1)) {
        self.timeout = timeout
        self.retry = retry
    }
}

/// The single declaration of a node type: drives validation, `sluice nodes`, the docs, the UI form and the factory.
public struct NodeSpec: Sendable {
    public let id: String
    public let version: Int
    public let category: NodeCategory
    public let title: String
    public let summary: String
    public let inputs: [PortSpec]
    public let outputs: [PortSpec]
    public let fields: [FieldSpec]
    public let capabilities: Set<Capability>
    public let defaults: ExecutionDefaults
    /// UI hints: a CSS colour and an icon name.
    public let color: String
    public let icon: String
    /// A mapping setting whose keys are further data output ports (`switch`'s `cases`), ahead of `outputs`.
    public let outputsFromSetting: String?

    public init(id: String, version: Int, category: NodeCategory, title: String, summary: String,
                inputs: [PortSpec], outputs: [PortSpec], fields: [FieldSpec],
                capabilities: Set<Capability> = [], defaults: ExecutionDefaults = .init(), color: String? = nil, icon: String = "box",
                outputsFromSetting: String? = nil) {
        self.id = id
        self.version = version
        self.category = category
        self.title = title
        self.summary = summary
        self.inputs = inputs
        self.outputs = outputs
        self.fields = fields
        self.capabilities = capabilities
        self.defaults = defaults
        let categoryColor = switch category {
        case .source: "#2f7ed8"
        case .transform: "#8e44ad"
        case .sink: "#27ae60"
        case .utility: "#7f8c8d"
        }
        self.color = color ?? categoryColor
        self.icon = icon
        self.outputsFromSetting = outputsFromSetting
    }

    /// `id@version`.
    public var reference: String { "\(id)@\(version)" }

    /// Every node implicitly has a `done` signal output (fires after it finished and committed), a `failed` one,
    /// and a `start` signal input (waits for signals); a node that rejects records has a `rejected` data output.
    public var allOutputs: [PortSpec] {
        outputs + (outputs.contains { $0.name == "done" } ? [] : [.signal("done", "Fires after this node finished and committed.")])
            + (outputs.contains { $0.name == "failed" } ? [] : [.signal("failed", "Fires when this node failed (after its retries): its target runs an alert or clean-up branch, and the run still ends failed.")])
            + (capabilities.contains(.rejects) ? [RejectedPort.spec] : [])
    }

    /// The output ports of one configured node: the keys of `outputsFromSetting` (in the order written), then `allOutputs`.
    public func allOutputs(settings: Setting?) -> [PortSpec] {
        guard let name = outputsFromSetting, let entries = settings?[name]?.entries else { return allOutputs }
        return entries.map { PortSpec.data($0.key, "Rows of the case '\($0.key)'.") } + allOutputs
    }
    public var allInputs: [PortSpec] { inputs + [.signal("start", "Waits for signal edges before starting.")] }

    /// Structural checks of raw settings against the fields: unknown keys, missing required fields, wrong kinds.
    /// Returns every problem; the node's initializer does the semantic checks afterwards.
    public func check(_ settings: Setting, node: String) -> [ConfigError] {
        guard let entries = settings.entries else {
            return [ConfigError(code: "invalid_value", message: "settings must be a mapping", location: settings.location, node: node, field: "settings")]
        }
        var problems: [ConfigError] = []
        let names = fields.map(\.name)
        for entry in entries where !names.contains(entry.key) {
            let reader = DocumentReader(file: nil)
            let hint = reader.closest(entry.key, in: names).map { "; did you mean '\($0)'?" } ?? ""
            problems.append(ConfigError(code: "unknown_key", message: "\(reference) has no setting '\(entry.key)'\(hint)", location: entry.keyLocation,
                                        node: node, field: entry.key, expected: names.isEmpty ? "no settings" : "one of: \(names.joined(separator: ", "))"))
        }
        for field in fields where field.isRequired && settings[field.name] == nil {
            problems.append(ConfigError(code: "missing_field", message: "missing required setting '\(field.name)': \(field.summary)", location: settings.location,
                                        node: node, field: field.name, expected: field.kind.description))
        }
        return problems
    }
}

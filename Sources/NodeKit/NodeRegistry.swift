/// The node types a build knows, as an explicit list (no self-registration).
public struct NodeRegistry: Sendable {
    public let types: [any NodeType.Type]
    /// The connectors nodes may reach through type-agnostic settings (a file node's `connection`).
    public let connectors: ConnectorRegistry

    public init(_ types: [any NodeType.Type], connectors: ConnectorRegistry = ConnectorRegistry([])) {
        self.types = types
        self.connectors = connectors
    }

    public var specs: [NodeSpec] { types.map { $0.spec } }

    /// The type a reference names: the exact version, or the newest when no version is given.
    public func resolve(_ reference: NodeTypeReference) -> (any NodeType.Type)? {
        let candidates = types.filter { $0.spec.id == reference.name }
        if let version = reference.version { return candidates.first { $0.spec.version == version } }
        return candidates.max { $0.spec.version < $1.spec.version }
    }

    /// An error for an unknown type or version, with the closest known names.
    public func unknown(_ reference: NodeTypeReference, node: String, location: SourceLocation?) -> ConfigError {
        let versions = types.filter { $0.spec.id == reference.name }.map { "\($0.spec.version)" }
        if !versions.isEmpty {
            return ConfigError(code: "unknown_node_type", message: "node type '\(reference.name)' has no version \(reference.version ?? 0)", location: location,
                               node: node, field: "type", expected: "one of versions \(versions.joined(separator: ", "))")
        }
        let names = Set(types.map { $0.spec.id }).sorted()
        let close = names.filter { editDistance($0, reference.name) <= 3 || $0.hasPrefix(reference.name) }
        let hint = close.isEmpty ? "" : "; did you mean \(close.map { "'\($0)'" }.joined(separator: " or "))?"
        return ConfigError(code: "unknown_node_type", message: "unknown node type '\(reference.name)'\(hint)", location: location, node: node, field: "type",
                           expected: "one of: \(names.joined(separator: ", "))")
    }
}

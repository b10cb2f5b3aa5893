public import NodeKit
import NodesFile
import NodesMail
import NodesPostgres
import NodesSQLite
import NodesTransform

/// Every node type this build ships, as one explicit list (the registry reads nothing else).
public enum BuiltinNodes {
    public static let all: [any NodeType.Type] = [
        CSVReadNode.self, CSVWriteNode.self, JSONLReadNode.self, JSONLWriteNode.self,
        FilterNode.self, ComputeNode.self, SelectNode.self, AggregateNode.self, LimitNode.self, UnionNode.self, LogNode.self,
        SQLiteReadNode.self, SQLiteWriteNode.self, PostgresReadNode.self, PostgresWriteNode.self,
    ]

    /// Every connection type this build knows.
    public static let connectionTypes: [ConnectionSpec] = [SQLiteConnection.spec, PostgresConnectionType.spec, IMAPConnectionType.spec]

    /// Schema discovery per connection type.
    public static let discoverers: [any Discoverer.Type] = [SQLiteDiscovery.self, PostgresDiscovery.self]

    /// Connection tests for types without schema discovery.
    public static let connectionChecks: [any ConnectionCheck.Type] = [IMAPConnectionCheck.self]

    public static let registry = NodeRegistry(all)
}

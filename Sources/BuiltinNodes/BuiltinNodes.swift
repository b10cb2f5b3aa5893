public import NodeKit
import NodesFile
import NodesHTTP
import NodesMail
import NodesPostgres
import NodesS3
import NodesSFTP
import NodesSQL
import NodesSQLite
import NodesTransform

/// Every node type and connector this build ships, as explicit lists (the registries read nothing else).
public enum BuiltinNodes {
    public static let all: [any NodeType.Type] = [
        CSVReadNode.self, CSVWriteNode.self, JSONLReadNode.self, JSONLWriteNode.self, FilesCopyNode.self,
        FilterNode.self, ComputeNode.self, SelectNode.self, AggregateNode.self, LimitNode.self, UnionNode.self, LogNode.self, JoinNode.self, SortNode.self, DedupeNode.self, AssertNode.self, WindowNode.self, PivotNode.self, UnpivotNode.self, SwitchNode.self, ProfileNode.self, RowsNode.self,
        SQLiteReadNode.self, SQLiteWriteNode.self, PostgresReadNode.self, PostgresWriteNode.self,
        HTTPReadNode.self, HTTPRequestNode.self, HTTPWriteNode.self, SlackPostNode.self, EmailSendNode.self,
        SQLRunNode.self, SQLModelsNode.self, DBTBuildNode.self,
    ]

    /// Every connector this build knows (its connection type and abilities): the one list the server, the
    /// scheduler and the command line look connectors up in.
    public static let connectors = ConnectorRegistry([SQLiteConnector.self, PostgresConnector.self, IMAPConnector.self, SMTPConnector.self, HTTPConnector.self, SlackConnector.self, S3Connector.self, SFTPConnector.self])

    public static let registry = NodeRegistry(all, connectors: connectors)
}

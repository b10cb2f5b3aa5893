/// One step of a node's work that users watch on its own: a SQL model built, a data test checked, a dbt model.
/// A node reports a step when it starts and again when it ends (`NodeContext.reportStep`); the run page shows
/// each node's steps live, in the order they started.
public struct NodeStep: Sendable, Equatable, Codable {
    /// How a step is doing.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case running, succeeded, warned, failed, skipped
    }

    /// Unique within the node (`stg_orders`, `not_null(stg_orders.id)`).
    public var name: String
    /// What the step is (`view`, `table`, `incremental`, `test`, `statement`…).
    public var kind: String
    public var status: Status
    /// Rows built, changed or (for a test) failing, when known.
    public var rows: Int?
    public var durationMillis: Int64?
    /// Why it failed, warned or was skipped.
    public var message: String?
    /// The SQL that failed (shown with the failure).
    public var sql: String?

    public init(name: String, kind: String, status: Status, rows: Int? = nil, durationMillis: Int64? = nil, message: String? = nil, sql: String? = nil) {
        self.name = name
        self.kind = kind
        self.status = status
        self.rows = rows
        self.durationMillis = durationMillis
        self.message = message
        self.sql = sql
    }
}

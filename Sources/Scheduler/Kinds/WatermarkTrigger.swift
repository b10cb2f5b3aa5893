import Foundation
public import NodeKit
public import Store

/// `watermark`: a value in a database (`max(column)` of a table, or a query's first value) polled until it grows.
public struct WatermarkTrigger: TriggerKind {
    static let connection = Field<ConnectionName>("connection", summary: "A database connection whose connector answers watermark queries.", example: "warehouse")
    static let table = Field<String?>("table", summary: "Table to watch (with column), or give a query.", example: "public.orders")
    static let column = Field<String?>("column", summary: "Column whose maximum is the watermark.", example: "updated_at")
    static let query = Field<String?>("query", summary: "A query returning one value, instead of table and column.", example: "SELECT max(id) FROM orders")
    static let pollEvery = Field<Duration>("pollEvery", summary: "How often to check (30s, 15m, 2h).", default: .seconds(60))
    static let fireOnFirst = Field<Bool>("fireOnFirst", summary: "Fire on the first poll too (default: it only records the value).", default: false)

    public static let name = "watermark"
    public static let summary = "When a value in a database grows (new or changed rows)."
    public static let fields = [connection.spec, table.spec, column.spec, query.spec, pollEvery.spec, fireOnFirst.spec]
    public static let sampleEvent: TriggerEvent? = TriggerEvent(["old_watermark": .string(""), "new_watermark": .string(""), "new_rows": .int(0)])

    public let connection: String
    public let table: String?
    public let column: String?
    public let query: String?
    public let pollMillis: Int64
    public let fireOnFirst: Bool

    public init(_ settings: Settings) throws(ConfigError) {
        connection = try settings[Self.connection].name
        table = try settings[Self.table]
        column = try settings[Self.column]
        query = try settings[Self.query]
        if query == nil, table == nil || column == nil {
            throw settings.error(Self.table, "a watermark trigger needs 'table' and 'column', or a 'query' returning one value", code: "missing_field")
        }
        if query != nil, table != nil || column != nil {
            throw settings.error(Self.query, "give either 'table' and 'column' or 'query', not both")
        }
        pollMillis = try settings.millis(Self.pollEvery)
        fireOnFirst = try settings[Self.fireOnFirst]
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        try await scheduler.apply(try await poll(state: state, probes: scheduler.probes), trigger, definition)
    }
}

/// `watermark`: polls a value (`max(column)` of a table, or a query's first value) and fires when it grows.
extension WatermarkTrigger {
    func poll(state: JSONValue, probes: TriggerProbes) async throws -> PollResult {
        let settings = self
        var state = state.objectValue
        let old = state["watermark"]?.stringValue
        let sql: String
        if let query = settings.query {
            sql = query
        } else {
            let table = QualifiedName(parsing: settings.table!)?.quoted ?? SQLText.quote(settings.table!)
            let column = SQLText.quote(settings.column!)
            let newRows = old.map { "CAST((SELECT count(*) FROM \(table) WHERE \(column) > \(Self.literal($0))) AS TEXT)" } ?? "NULL"
            sql = "SELECT CAST(max(\(column)) AS TEXT), \(newRows) FROM \(table)"
        }
        let (connection, probe) = try await probes.connection(settings.connection, offering: (any WatermarkProbing.Type).self, for: "watermark triggers")
        let row = try await probe.firstRow(connection, sql: sql)
        guard let value = row?.first ?? nil else { return PollResult() }
        state["watermark"] = .string(value)
        guard let old else {
            if settings.fireOnFirst { return PollResult(events: [(TriggerEvent(["old_watermark": .null, "new_watermark": .string(value), "new_rows": .null]), .object(state))]) }
            return PollResult(quietState: .object(state))
        }
        guard Self.greater(value, than: old) else { return PollResult() }
        let newRows: JSONValue = settings.query == nil ? (row?.dropFirst().first.flatMap { $0 }.flatMap { Int64($0) }.map(JSONValue.int) ?? .null) : .null
        return PollResult(events: [(TriggerEvent(["old_watermark": .string(old), "new_watermark": .string(value), "new_rows": newRows]), .object(state))])
    }

    /// Numbers compare as numbers; other values (ISO dates and timestamps) in text order.
    static func greater(_ a: String, than b: String) -> Bool {
        if let x = Double(a), let y = Double(b) { return x > y }
        return a > b
    }

    /// The old watermark as a SQL literal: numbers bare, anything else quoted (the database casts it to the column's type).
    static func literal(_ text: String) -> String {
        Double(text) != nil && !text.contains(where: { $0.isLetter }) ? text : SQLText.literal(text)
    }
}

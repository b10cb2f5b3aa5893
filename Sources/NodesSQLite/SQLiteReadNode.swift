import Foundation
import CSQLite
import Columnar
import Expressions
public import NodeKit
import SQLiteAccess

/// Reads a SQLite table (or the result of a query with bound parameters) into typed batches.
public struct SQLiteReadNode: NodeType {
    static let lookback = Field<String?>("lookback", summary: "Incremental: also re-read rows this far behind the cursor ('10 minutes', '2 days', or a number for numeric cursors), for late writes; pair with a merge sink.")

    public static let spec = NodeSpec(
        id: "sqlite.read", version: 1, category: .source, title: "SQLite table",
        summary: "Reads a SQLite table or query into typed rows.",
        inputs: [], outputs: [.data("out")], fields: TableSourceOptions.fields(SQLiteConnector.spec.type, example: "local") + [lookback.spec],
        capabilities: [.projection, .rejects], icon: "database")

    let settings: Settings
    let options: TableSourceOptions
    let path: String
    var table: QualifiedName? { options.table }
    var query: String? { options.query }
    var batchRows: Int { options.batchRows }
    var mode: ReadMode { options.mode }
    var cursor: String? { options.cursor }
    var key: [String] { options.key }
    var nullCursor: NullCursorPolicy { options.nullCursor }
    let lookback: String?

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        options = try TableSourceOptions(settings, type: SQLiteConnector.spec.type)
        path = try SQLiteConnector.path(of: options.connection)
        lookback = try settings[Self.lookback]
    }

    /// The lower bound of a lookback read, as SQL over the bound cursor value (`?`), for the cursor's type.
    func lookbackBound(_ cursorType: DataType) throws(ConfigError) -> String? {
        guard let lookback else { return nil }
        switch cursorType {
        case .int64, .float64, .decimal:
            guard let amount = Double(lookback), amount >= 0 else {
                throw settings.error(Self.lookback, "'\(lookback)' is not a number; a numeric cursor looks back by a number", expected: "a number such as 100")
            }
            return "(? - \(amount))"
        case .timestamp, .date:
            guard let match = lookback.wholeMatch(of: /\s*(\d+(?:\.\d+)?)\s+(second|minute|hour|day|month|year)s?\s*/) else {
                throw settings.error(Self.lookback, "'\(lookback)' is not a duration", expected: "a number and a unit: seconds, minutes, hours, days, months or years, e.g. '10 minutes'")
            }
            let modifier = SQLText.literal("-\(match.1) \(match.2)s")
            return cursorType == .date ? "date(?, \(modifier))" : "strftime('%Y-%m-%dT%H:%M:%fZ', ?, \(modifier))"
        default:
            throw settings.error(Self.lookback, "lookback needs a numeric, date or timestamp cursor; '\(cursor ?? "")' is \(cursorType)")
        }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        do {
            let db = try SQLiteConnector.open(path, readOnly: true)
            var sql: String
            var schema: Schema
            if let table {
                let columns = try db.tableColumns(table)
                guard !columns.isEmpty else { throw settings.error(TableSourceOptions.table, "table \(table) does not exist in \(path)", code: "unknown_table") }
                schema = Schema(columns.map { SchemaField($0.name, SQLiteTypes.dataType(declared: $0.declared), nullable: !$0.notNull) })
                if let needed = options.needed(request.projection) { schema = schema.projected(needed) }
                let list = schema.names.isEmpty ? "1" : schema.names.map(SQLText.quote).joined(separator: ", ")
                sql = "SELECT \(list) FROM \(table.quoted)"
            } else {
                sql = query!
                schema = .empty
            }
            let bound = try options.parameterValues(request, settings)
            if table == nil {
                let statement = try db.prepare(sql)
                for (name, value) in bound {
                    let index = statement.parameterIndex(":" + name)
                    guard index > 0 else { throw settings.error(TableSourceOptions.parameters, "the query has no parameter :\(name)", code: "invalid_value") }
                    statement.bind(index, value)
                }
                schema = try Self.querySchema(statement)
            }
            var incremental: Work.Incremental?
            if mode == .incremental, let cursor {
                for name in [cursor] + key where schema.index(of: name) == nil {
                    let message = "column '\(name)' is not in the source; its columns are: \(schema.names.joined(separator: ", "))"
                    throw name == cursor ? settings.error(TableSourceOptions.cursor, message, code: "unknown_column") : settings.error(TableSourceOptions.key, message, code: "unknown_column")
                }
                let position = schema.index(of: cursor)!
                incremental = Work.Incremental(cursor: position, key: key.map { schema.index(of: $0)! }, nulls: nullCursor,
                                               lookback: try lookbackBound(schema.fields[position].type), lookbackAmount: lookback.flatMap { Decimal(string: $0) })
                sql = "SELECT * FROM (\(sql)) AS sluice_read"
            }
            return NodePlan(outputs: ["out": schema], work: Work(path: path, sql: sql, schema: schema, parameters: bound, batchRows: batchRows, incremental: incremental))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw settings.error(TableSourceOptions.connection(SQLiteConnector.spec.type, example: "local"), "\(error)", code: "database_error")
        }
    }

    /// Column types of a query: declared types where SQLite knows them; for expressions, the storage class
    /// of the first non-NULL value among the first 100 rows (string when all are NULL).
    static func querySchema(_ statement: SQLiteStatement) throws(SQLiteError) -> Schema {
        var types: [DataType?] = (0..<statement.columnCount).map { statement.declaredType($0).map { SQLiteTypes.dataType(declared: $0) } }
        var sampled = 0
        while types.contains(where: { $0 == nil }), sampled < 100, try statement.step() {
            for i in types.indices where types[i] == nil {
                switch statement.storageClass(i) {
                case SQLITE_INTEGER: types[i] = .int64
                case SQLITE_FLOAT: types[i] = .float64
                case SQLITE_TEXT: types[i] = .string
                case SQLITE_BLOB: types[i] = .bytes
                default: break
                }
            }
            sampled += 1
        }
        return Schema((0..<statement.columnCount).map { SchemaField(statement.columnName($0), types[$0] ?? .string) })
    }

    struct Work: NodeWork {
        let path: String
        let sql: String
        let schema: Schema
        let parameters: [(String, Value)]
        let batchRows: Int
        let incremental: Incremental?

        /// Positions of the cursor and key columns in the schema, and the NULL-cursor policy.
        struct Incremental: Sendable {
            let cursor: Int
            let key: [Int]
            let nulls: NullCursorPolicy
            /// With a lookback: SQL for the lower bound over the bound cursor value; rows from there on are read again.
            let lookback: String?
            /// The lookback as a number, for decimal cursors kept as text (their bound is computed here, exactly).
            let lookbackAmount: Decimal?
        }

        /// Whether a column holds decimals of more than 15 digits, which SQLite keeps as text (`DECIMAL_TEXT`): they
        /// compare and sort by value only through the `SLUICE_DECIMAL` collation.
        static func isTextDecimal(_ type: DataType) -> Bool {
            if case let .decimal(precision, _) = type { return precision > 15 }
            return false
        }

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            let statement: SQLiteStatement
            let db: SQLiteDatabase
            var state: CursorState?
            if let incremental {
                state = CursorState.earliest(try await context.committedState().compactMap(CursorState.parse), cursorType: schema.fields[incremental.cursor].type)
            }
            do {
                db = try SQLiteConnector.open(path, readOnly: true)
                if let incremental {
                    // One read transaction: a consistent snapshot of the rows and of the cursor they lead to.
                    try db.execute("BEGIN")
                    db.registerDecimalCollation()
                    let positions = [incremental.cursor] + incremental.key
                    let names = positions.map { SQLText.quote(schema.fields[$0].name) }
                    // Decimals kept as text compare by value through the collation, not letter by letter.
                    let columns = positions.map { Self.isTextDecimal(schema.fields[$0].type) ? SQLText.quote(schema.fields[$0].name) + " COLLATE SLUICE_DECIMAL" : SQLText.quote(schema.fields[$0].name) }
                    let textCursor = Self.isTextDecimal(schema.fields[incremental.cursor].type)
                    var filter = ""
                    if state != nil {
                        let placeholders = columns.map { _ in "?" }.joined(separator: ", ")
                        if let bound = incremental.lookback {
                            filter = " WHERE \(columns[0]) >= \(textCursor ? "?" : bound) OR \(names[0]) IS NULL"
                        } else {
                            filter = columns.count == 1 ? " WHERE \(columns[0]) > ? OR \(names[0]) IS NULL"
                                : " WHERE (\(columns.joined(separator: ", "))) > (\(placeholders)) OR \(names[0]) IS NULL"
                        }
                    }
                    statement = try db.prepare(sql + filter + " ORDER BY " + columns.joined(separator: ", "))
                    if let state {
                        let offset = parameters.count
                        if incremental.lookback != nil, textCursor {
                            let from = (Decimal(string: state.cursor) ?? 0) - (incremental.lookbackAmount ?? 0)
                            statement.bindText(offset + 1, "\(from)")
                        } else {
                            let bound = incremental.lookback == nil ? Array(zip([state.cursor] + state.key, positions)) : [(state.cursor, incremental.cursor)]
                            for (i, (text, column)) in bound.enumerated() {
                                Self.bindCursor(statement, offset + i + 1, text, schema.fields[column].type)
                            }
                        }
                    }
                    context.log(.info, state.map { "reading rows after cursor \($0.cursor)" } ?? "no committed cursor: reading everything")
                } else {
                    statement = try db.prepare(sql)
                }
            } catch {
                throw NodeError(code: "database_unavailable", message: "\(error)", isRetryable: error.isBusy)
            }
            for (name, value) in parameters {
                let index = statement.parameterIndex(":" + name)
                guard index > 0 else { throw NodeError(code: "invalid_query", message: "the query has no parameter :\(name)") }
                statement.bind(index, value)
            }
            var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: batchRows) }
            var lastCursor: CursorState?
            var rows = 0, row = 0
            var bad: [Int] = []
            var rejects: [RejectedRecord] = []
            while true {
                let more: Bool
                do { more = try statement.step() } catch {
                    throw NodeError(code: "database_error", message: "reading \(path): \(error)", isRetryable: error.isBusy)
                }
                if more {
                    var failed: String?
                    if let incremental {
                        if statement.storageClass(incremental.cursor) == SQLITE_NULL {
                            if incremental.nulls == .reject { failed = schema.fields[incremental.cursor].name }
                        } else {
                            lastCursor = CursorState(cursor: statement.text(incremental.cursor), key: incremental.key.map { statement.text($0) })
                        }
                    }
                    for k in builders.indices where !SQLiteTypes.append(statement, k, to: &builders[k]) && failed == nil { failed = schema.fields[k].name }
                    if let failed {
                        bad.append(rows)
                        let values = (0..<statement.columnCount).map { (name: statement.columnName($0), value: Value.string(statement.text($0))) }
                        rejects.append(RejectedRecord(code: "invalid_value", message: "row \(row): column '\(failed)' holds \"\(statement.text(schema.index(of: failed)!))\", not a \(schema.field(named: failed)!.type)",
                                                      field: failed, source: path, row: row, payload: .row(values)))
                    }
                    rows += 1
                    row += 1
                }
                if rows == batchRows || (!more && rows > 0) {
                    try await context.reject(rejects)
                    rejects.removeAll()
                    let columns = builders.indices.map { builders[$0].finish() }
                    try await context.emit(RecordBatch(schema: schema, columns: columns, count: rows).removing(rows: bad), on: "out")
                    rows = 0
                    bad.removeAll()
                    try Task.checkCancellation()
                }
                if !more { break }
            }
            if incremental != nil {
                try? db.execute("COMMIT")
                if let lastCursor {
                    context.publishState(lastCursor.json)
                    context.log(.info, "new cursor \(lastCursor.cursor) (committed with the data)")
                }
            }
            withExtendedLifetime(db) {}
            return nil
        }

        /// Binds a cursor or key value back with the storage its column type uses.
        static func bindCursor(_ statement: SQLiteStatement, _ index: Int, _ text: String, _ type: DataType) {
            switch type {
            case .int64, .bool: if let v = Int64(text) { statement.bind(index, v) } else { statement.bindText(index, text) }
            case .decimal where isTextDecimal(type): statement.bindText(index, text)
            case .float64, .decimal: if let v = Double(text) { statement.bind(index, v) } else { statement.bindText(index, text) }
            default: statement.bindText(index, text)
            }
        }

    }
}

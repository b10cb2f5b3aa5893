import Columnar
import Expressions
import Foundation
public import NodeKit

/// Runs SQL statements on a database connection (PostgreSQL, SQLite) when its `start` signal fires: inline
/// `sql` or a workspace `file`, `:name` parameters bound (never spliced), by default in one transaction that
/// commits with the run. Each statement's command and row count, and the server's notices, go to the run log;
/// a refused statement fails the node with the server's message and the line it points at.
public struct SQLRunNode: NodeType {
    static let connection = Field<ConnectionName>("connection", summary: "A database connection (postgres or sqlite).", example: "warehouse")
    static let sql = Field<String?>("sql", summary: "Statements separated by semicolons (or give file).",
                                    example: "DELETE FROM staging.orders WHERE loaded_at < :cutoff; ANALYZE staging.orders")
    static let file = Field<FilePath?>("file", summary: "A .sql file in the workspace holding the statements (instead of sql).", example: "sql/refresh.sql")
    static let parameters = Field<NamedValues<Expressions.Expression>?>("parameters", summary: "Values of the statements' :name parameters (expressions over ${run parameters}).",
                                                            example: "{cutoff: \"${since}\"}")
    static let transaction = Field<Bool>("transaction", summary: "Run every statement in one transaction that commits with the run (false: each statement commits on its own).",
                                         default: true)

    public static let spec = NodeSpec(
        id: "sql.run", version: 1, category: .utility, title: "Run SQL",
        summary: "Runs SQL statements on a database connection, in one transaction by default; wire it after a load (load.done → sql.start).",
        inputs: [], outputs: [], fields: [connection.spec, sql.spec, file.spec, parameters.spec, transaction.spec],
        capabilities: [.transactionalSink], icon: "terminal")

    let settings: Settings
    let connection: Connection
    let connector: any SQLRunning.Type
    let script: SQLScript
    /// Where the statements were written, for messages: the file as written, or "sql".
    let origin: String
    let inTransaction: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        (connection, connector) = try settings.sqlConnection(Self.connection)
        inTransaction = try settings[Self.transaction]
        let inline = try settings[Self.sql]
        let file = try settings[Self.file]
        switch (inline, file) {
        case let (text?, nil):
            script = SQLScript(text)
            origin = "sql"
        case let (nil, file?):
            let resolved: String
            do { resolved = try settings.files.resolve(file.text) } catch { throw error.at(node: settings.node, field: Self.file.name, location: settings.location(of: Self.file)) }
            if let size = (try? FileManager.default.attributesOfItem(atPath: resolved))?[.size] as? Int, size > 16 << 20 {
                throw settings.error(Self.file, "'\(file.text)' is larger than 16 MB", code: "file_too_large")
            }
            guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
                throw settings.error(Self.file, "cannot read '\(file.text)' (a UTF-8 text file in the workspace)", code: "file_not_found")
            }
            script = SQLScript(text)
            origin = file.text
        case (nil, nil):
            throw ConfigError(code: "missing_field", message: "give the statements as sql or file", location: settings.raw.location, node: settings.node, field: Self.sql.name)
        case (_?, _?):
            throw settings.error(Self.file, "give sql or file, not both", code: "conflicting_fields")
        }
        if script.statements.isEmpty {
            throw origin == "sql" ? settings.error(Self.sql, "there is no statement to run") : settings.error(Self.file, "there is no statement in '\(origin)'")
        }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        var values: [String: SQLParameter] = [:]
        for entry in try settings[Self.parameters]?.entries ?? [] {
            let bound = try request.bind(entry.value, to: .empty, field: "parameters.\(entry.name)", location: entry.location)
            guard let constant = bound.constantValue else { throw settings.error(Self.parameters, "parameter :\(entry.name) must not depend on columns") }
            values[entry.name] = SQLParameter(constant)
        }
        return NodePlan(outputs: [:], work: Work(node: self, parameters: values))
    }

    struct Work: NodeWork {
        let node: SQLRunNode
        let parameters: [String: SQLParameter]

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            if context.isPreview {
                context.log(.info, "\(node.script.statements.count) statement(s) not run in a preview")
                return nil
            }
            let session = try await node.connector.sqlSession(node.connection)
            do {
                if node.inTransaction { try await session.run("BEGIN") }
                for (number, statement) in node.script.statements.enumerated() {
                    let started = ContinuousClock.now
                    let result: SQLStatementResult
                    do {
                        result = try await session.run(statement.text, parameters: parameters)
                    } catch let error as SQLStatementError {
                        let line = error.position.map(statement.line(atCharacter:)) ?? statement.line
                        throw NodeError(code: "sql_error", message: "statement \(number + 1) (\(node.origin) line \(line)) failed: \(error.message)",
                                        isRetryable: error.isRetryable, cause: error.code.map { "SQLSTATE \($0)" })
                    }
                    for notice in result.notices { context.log(notice.hasPrefix("WARNING") ? .warning : .info, notice) }
                    context.log(.info, "statement \(number + 1) (line \(statement.line)): \(Self.describe(result)) in \(started.duration(to: .now).millisecondsText)")
                }
            } catch {
                if node.inTransaction { _ = try? await session.run("ROLLBACK") }
                await session.close()
                throw error
            }
            guard node.inTransaction else {
                await session.close()
                return nil
            }
            return Pending(session: session)
        }

        static func describe(_ result: SQLStatementResult) -> String {
            var text = result.command ?? "done"
            if let changed = result.changed { text += ", \(changed) row\(changed == 1 ? "" : "s")" } else if !result.rows.isEmpty { text += ", \(result.rows.count) row\(result.rows.count == 1 ? "" : "s") returned" }
            return text
        }
    }

    /// The open transaction: committed with the run, rolled back when it fails.
    struct Pending: PendingCommit {
        let session: any SQLSession

        func commit() async throws {
            do { try await session.run("COMMIT") } catch {
                await session.close()
                throw NodeError(code: "sql_error", message: "the transaction could not commit", cause: "\(error)")
            }
            await session.close()
        }

        func abort() async {
            _ = try? await session.run("ROLLBACK")
            await session.close()
        }
    }
}

extension Duration {
    /// "12 ms", "3.40 s".
    var millisecondsText: String {
        let millis = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        return millis < 1000 ? "\(Int(millis.rounded())) ms" : String(format: "%.2f s", millis / 1000)
    }

    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension SQLParameter {
    /// A setting's constant as a bound value.
    init(_ value: Value) {
        switch value {
        case .null: self = .null
        case let .int(number): self = .int(number)
        case let .float(number): self = .double(number)
        case let .bool(flag): self = .int(flag ? 1 : 0)
        case let .string(text): self = .text(text)
        default: self = .text(value.description)
        }
    }
}

import Foundation
import NodeKit

/// Builds one model on a session: renders its SQL, then creates the view, swaps in the new table, or merges
/// the new rows of an incremental model.
struct ModelBuild {
    let model: ModelProject.Model
    let statements: ModelStatements
    let render: (ModelTemplate, _ this: String, _ incremental: Bool) throws -> String
    let fullRefresh: Bool

    /// What a build did.
    struct Outcome {
        var rows: Int?
        /// How it was built this time ("table", "view", "incremental", "incremental (first build)").
        var kind: String
    }

    /// A statement that failed while building: the message, the model line it points at, and the statement.
    struct Failure: Error {
        let message: String
        let line: Int?
        let sql: String
        let isRetryable: Bool
    }

    /// The first line of `body` holding the name an error is about ("no such column: amonut"), when there is one.
    static func line(naming message: String, in body: String) -> Int? {
        guard let colon = message.lastIndex(of: ":") else { return nil }
        let name = message[message.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(" ") else { return nil }
        let bare = name.split(separator: ".").last.map(String.init) ?? name
        for (index, line) in body.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.contains(bare) { return index + 1 }
        return nil
    }

    func run(on session: any SQLSession) async throws -> Outcome {
        let target = model.name
        let existing = try await statements.existingKind(target, on: session)
        switch model.materialization {
        case .view:
            try await replaceView(target, existing: existing, on: session)
            return Outcome(rows: nil, kind: "view")
        case .table:
            return Outcome(rows: try await replaceTable(target, existing: existing, on: session), kind: "table")
        case .incremental:
            if existing == "table", !fullRefresh {
                return Outcome(rows: try await merge(target, on: session), kind: "incremental")
            }
            return Outcome(rows: try await replaceTable(target, existing: existing, on: session), kind: fullRefresh && existing != nil ? "incremental (full refresh)" : "incremental (first build)")
        }
    }

    private func sql(incremental: Bool) throws -> String {
        ModelStatements.trimmed(try render(model.template, statements.relation(model.name), incremental))
    }

    /// Runs `prefix + sql`; an error inside `sql` names the model's line.
    @discardableResult
    private func run(_ prefix: String, _ body: String, on session: any SQLSession) async throws -> SQLStatementResult {
        let statement = prefix + body
        do {
            return try await session.run(statement)
        } catch let error as SQLStatementError {
            var line: Int?
            if let position = error.position, position > prefix.count {
                line = 1 + body.prefix(position - prefix.count - 1).reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
            }
            throw Failure(message: error.message, line: line, sql: statement, isRetryable: error.isRetryable)
        }
    }

    @discardableResult
    private func plain(_ statement: String, on session: any SQLSession) async throws -> SQLStatementResult {
        try await run(statement, "", on: session)
    }

    private func replaceView(_ target: String, existing: String?, on session: any SQLSession) async throws {
        let body = try sql(incremental: false)
        switch statements.dialect {
        case .postgres:
            let fresh = ModelStatements.temporary(target, "new")
            try await plain("BEGIN", on: session)
            do {
                _ = try await plain("DROP VIEW IF EXISTS \(statements.relation(fresh))", on: session)
                _ = try await run("CREATE VIEW \(statements.relation(fresh)) AS\n", body, on: session)
                if let existing { _ = try await plain(statements.drop(target, kind: existing), on: session) }
                _ = try await plain("ALTER VIEW \(statements.relation(fresh)) RENAME TO \(SQLText.quote(target))", on: session)
                try await plain("COMMIT", on: session)
            } catch {
                _ = try? await session.run("ROLLBACK")
                throw error
            }
        case .sqlite:
            try await plain("BEGIN IMMEDIATE", on: session)
            do {
                if let existing { _ = try await plain(statements.drop(target, kind: existing), on: session) }
                _ = try await run("CREATE VIEW \(statements.relation(target)) AS\n", body, on: session)
                // SQLite checks a view's names only when it is read: read it once so a mistake fails this model.
                do { _ = try await session.run("SELECT * FROM \(statements.relation(target)) LIMIT 0") } catch let error as SQLStatementError {
                    throw Failure(message: error.message, line: Self.line(naming: error.message, in: body), sql: body, isRetryable: false)
                }
                try await plain("COMMIT", on: session)
            } catch {
                _ = try? await session.run("ROLLBACK")
                throw error
            }
        }
    }

    /// Builds the table under a temporary name, then swaps it in: the old table is dropped and the new one
    /// renamed in one transaction. Returns the rows built.
    private func replaceTable(_ target: String, existing: String?, on session: any SQLSession) async throws -> Int? {
        let body = try sql(incremental: false)
        let fresh = ModelStatements.temporary(target, "new")
        switch statements.dialect {
        case .postgres:
            _ = try await plain("DROP TABLE IF EXISTS \(statements.relation(fresh))", on: session)
            let created = try await run("CREATE TABLE \(statements.relation(fresh)) AS\n", body, on: session)
            try await plain("BEGIN", on: session)
            do {
                if let existing { _ = try await plain(statements.drop(target, kind: existing), on: session) }
                _ = try await plain("ALTER TABLE \(statements.relation(fresh)) RENAME TO \(SQLText.quote(target))", on: session)
                try await plain("COMMIT", on: session)
            } catch {
                _ = try? await session.run("ROLLBACK")
                _ = try? await session.run("DROP TABLE IF EXISTS \(statements.relation(fresh))")
                throw error
            }
            return created.changed
        case .sqlite:
            try await plain("BEGIN IMMEDIATE", on: session)
            do {
                _ = try await plain("DROP TABLE IF EXISTS \(statements.relation(fresh))", on: session)
                _ = try await run("CREATE TABLE \(statements.relation(fresh)) AS\n", body, on: session)
                let rows = try await session.count("SELECT count(*) FROM \(statements.relation(fresh))")
                if let existing { _ = try await plain(statements.drop(target, kind: existing), on: session) }
                _ = try await plain("ALTER TABLE \(statements.relation(fresh)) RENAME TO \(SQLText.quote(target))", on: session)
                try await plain("COMMIT", on: session)
                return rows
            } catch {
                _ = try? await session.run("ROLLBACK")
                throw error
            }
        }
    }

    /// Builds the new rows (the model with `is_incremental()` true) into a temporary table, then deletes the rows
    /// whose unique key comes again and inserts the new ones, in one transaction. Returns the rows inserted.
    private func merge(_ target: String, on session: any SQLSession) async throws -> Int? {
        let body = try sql(incremental: true)
        let delta = SQLText.quote(ModelStatements.temporary(target, "delta"))
        let temporaryDelta = statements.dialect == .postgres ? delta : "temp." + delta
        _ = try await plain("DROP TABLE IF EXISTS \(temporaryDelta)", on: session)
        _ = try await run("CREATE TEMPORARY TABLE \(delta) AS\n", body, on: session)
        do {
            let newColumns = try await statements.columns(of: temporaryDelta, on: session)
            let tableColumns = Set(try await statements.columns(of: statements.relation(target), on: session))
            let added = newColumns.filter { !tableColumns.contains($0) }
            if !added.isEmpty {
                throw Failure(message: "the model now has columns its table lacks (\(added.joined(separator: ", "))); rebuild it with fullRefresh: true",
                              line: nil, sql: body, isRetryable: false)
            }
            for key in model.uniqueKey where !newColumns.contains(key) {
                throw Failure(message: "unique_key '\(key)' is not a column of the model (its columns: \(newColumns.joined(separator: ", ")))", line: nil, sql: body, isRetryable: false)
            }
            let columnList = newColumns.map(SQLText.quote).joined(separator: ", ")
            try await plain(statements.dialect == .postgres ? "BEGIN" : "BEGIN IMMEDIATE", on: session)
            do {
                if !model.uniqueKey.isEmpty {
                    let keys = model.uniqueKey.map(SQLText.quote)
                    let delete = switch statements.dialect {
                    case .postgres:
                        "DELETE FROM \(statements.relation(target)) AS existing USING \(temporaryDelta) AS incoming WHERE "
                            + keys.map { "existing.\($0) = incoming.\($0)" }.joined(separator: " AND ")
                    case .sqlite:
                        "DELETE FROM \(statements.relation(target)) WHERE (\(keys.joined(separator: ", "))) IN (SELECT \(keys.joined(separator: ", ")) FROM \(temporaryDelta))"
                    }
                    _ = try await plain(delete, on: session)
                }
                let inserted = try await plain("INSERT INTO \(statements.relation(target)) (\(columnList)) SELECT \(columnList) FROM \(temporaryDelta)", on: session)
                try await plain("COMMIT", on: session)
                _ = try? await session.run("DROP TABLE IF EXISTS \(temporaryDelta)")
                return inserted.changed
            } catch {
                _ = try? await session.run("ROLLBACK")
                throw error
            }
        } catch {
            _ = try? await session.run("DROP TABLE IF EXISTS \(temporaryDelta)")
            throw error
        }
    }
}

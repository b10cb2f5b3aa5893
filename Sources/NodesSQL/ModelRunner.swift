import Foundation
import NodeKit
import Synchronization

/// Runs the selected models of a project: each once the models it reads are built, up to `threads` at once,
/// each on a session of its own (reused by later models). After a model is built its tests run; a failing
/// test (severity error) fails the model, and models reading a failed model are skipped. Every model and test
/// is reported as a step; the node fails at the end when any model or error test failed.
struct ModelRunner {
    let project: ModelProject
    let selected: Set<String>
    let schema: String?
    let vars: [String: String]
    let threads: Int
    let fullRefresh: Bool
    let connector: any SQLRunning.Type
    let connection: Connection
    let context: any NodeContext

    /// How a model ended.
    enum Ending: Sendable { case built, failed(String), skipped }

    func run() async throws {
        let first = try await openSession()
        let statements = ModelStatements(dialect: first.dialect, schema: first.dialect.hasSchemas ? (schema ?? "public") : nil)
        if !first.dialect.hasSchemas, let schema, schema != "main" {
            await first.close()
            throw NodeError(code: "invalid_schema", message: "SQLite has no schemas: remove schema: \(schema) (models are built in the database file)")
        }
        if first.dialect == .postgres, let schema {
            do { try await first.run("CREATE SCHEMA IF NOT EXISTS \(SQLText.quote(schema))") } catch {
                await first.close()
                throw NodeError(code: "sql_error", message: "cannot create schema \(schema)", cause: "\(error)")
            }
        }
        let pool = SessionPool(first: first, open: openSession)
        let width = first.dialect.writesInParallel ? threads : 1
        let order = project.order.filter(selected.contains)
        var endings: [String: Ending] = [:]
        var started = Set<String>()
        await withTaskGroup(of: (String, Ending).self) { group in
            var running = 0
            func startReady() {
                for name in order where !started.contains(name) && running < width {
                    let model = project.models[name]!
                    let dependencies = dependencies(of: model)
                    guard dependencies.allSatisfy({ !selected.contains($0) || endings[$0] != nil }) else { continue }
                    started.insert(name)
                    if let failed = dependencies.first(where: { if case .built = endings[$0] ?? .built { false } else { true } }) {
                        endings[name] = .skipped
                        context.reportStep(NodeStep(name: name, kind: model.materialization.rawValue, status: .skipped, message: "skipped: \(failed) did not build"))
                        for test in project.tests where test.model == name {
                            context.reportStep(NodeStep(name: test.name, kind: "test", status: .skipped, message: "skipped: \(name) did not build"))
                        }
                        startReady()
                        return
                    }
                    running += 1
                    group.addTask { (name, await build(model, statements: statements, pool: pool)) }
                }
            }
            startReady()
            while let (name, ending) = await group.next() {
                running -= 1
                endings[name] = ending
                startReady()
            }
        }
        await pool.closeAll()
        let failed = order.filter { if case .failed = endings[$0] { true } else { false } }
        let skipped = order.filter { if case .skipped = endings[$0] { true } else { false } }
        context.log(.info, "\(order.count - failed.count - skipped.count) of \(order.count) models built" + (failed.isEmpty ? "" : ", \(failed.count) failed")
                    + (skipped.isEmpty ? "" : ", \(skipped.count) skipped"))
        if !failed.isEmpty {
            let first = failed.first.flatMap { if case let .failed(message) = endings[$0] { "\($0): \(message)" } else { nil } } ?? ""
            throw NodeError(code: "model_failed", message: "\(failed.count) of \(order.count) models failed (\(failed.joined(separator: ", ")))"
                            + (skipped.isEmpty ? "" : ", \(skipped.count) skipped") + "; first: \(first)")
        }
    }

    /// The models a model waits for: those it reads, and those its tests read (built earlier: a test runs after
    /// the last model it reads).
    func dependencies(of model: ModelProject.Model) -> [String] {
        let testReads = project.tests.filter { $0.model == model.name }.flatMap(\.alsoReads)
        return model.dependsOn + Set(testReads).subtracting(model.dependsOn).sorted()
    }

    private func openSession() async throws -> any SQLSession {
        let session = try await connector.sqlSession(connection)
        if session.dialect == .sqlite {
            // Renaming the new table into place must not check views that read the table being replaced.
            _ = try? await session.run("PRAGMA legacy_alter_table = ON")
        }
        return session
    }

    /// Builds a model and runs its tests; never throws (the ending says what happened).
    private func build(_ model: ModelProject.Model, statements: ModelStatements, pool: SessionPool) async -> Ending {
        let kind = model.materialization.rawValue
        context.reportStep(NodeStep(name: model.name, kind: kind, status: .running))
        let clock = ContinuousClock.now
        let session: any SQLSession
        do { session = try await pool.take() } catch {
            let message = "cannot connect: \(error)"
            context.reportStep(NodeStep(name: model.name, kind: kind, status: .failed, message: message))
            return .failed(message)
        }
        defer { pool.give(session) }
        let builder = ModelBuild(model: model, statements: statements, render: { template, this, incremental in
            do {
                return try template.render(ModelTemplate.Context(relation: { statements.relation($0, sources: project.sources) }, vars: vars, isIncremental: incremental), this: this)
            } catch let failure as ModelTemplate.Failure {
                throw ModelBuild.Failure(message: failure.message, line: nil, sql: "", isRetryable: false)
            }
        }, fullRefresh: fullRefresh)
        let outcome: ModelBuild.Outcome
        do {
            outcome = try await builder.run(on: session)
        } catch let failure as ModelBuild.Failure {
            let message = "\(model.file)\(failure.line.map { " line \($0)" } ?? ""): \(failure.message)"
            context.reportStep(NodeStep(name: model.name, kind: kind, status: .failed, durationMillis: clock.duration(to: .now).milliseconds, message: message,
                                        sql: failure.sql.isEmpty ? nil : failure.sql))
            return .failed(message)
        } catch {
            let message = "\(model.file): \(error)"
            context.reportStep(NodeStep(name: model.name, kind: kind, status: .failed, durationMillis: clock.duration(to: .now).milliseconds, message: message))
            return .failed(message)
        }
        var failedTests: [String] = []
        var warnedTests: [String] = []
        for test in project.tests where test.model == model.name {
            switch await runTest(test, statements: statements, session: session) {
            case .failed: test.warnOnly ? warnedTests.append(test.name) : failedTests.append(test.name)
            case .passed: break
            }
        }
        let millis = clock.duration(to: .now).milliseconds
        if !failedTests.isEmpty {
            let message = "built as \(outcome.kind), but its tests failed: \(failedTests.joined(separator: ", "))"
            context.reportStep(NodeStep(name: model.name, kind: outcome.kind, status: .failed, rows: outcome.rows, durationMillis: millis, message: message))
            return .failed(message)
        }
        context.reportStep(NodeStep(name: model.name, kind: outcome.kind, status: warnedTests.isEmpty ? .succeeded : .warned, rows: outcome.rows, durationMillis: millis,
                                    message: warnedTests.isEmpty ? nil : "tests warned: \(warnedTests.joined(separator: ", "))"))
        return .built
    }

    enum TestResult { case passed, failed }

    private func runTest(_ test: ModelProject.DataTest, statements: ModelStatements, session: any SQLSession) async -> TestResult {
        context.reportStep(NodeStep(name: test.name, kind: "test", status: .running))
        let clock = ContinuousClock.now
        var query = ""
        do {
            query = try statements.testQuery(test, model: test.subject, render: { template in
                try template.render(ModelTemplate.Context(relation: { statements.relation($0, sources: project.sources) }, vars: vars, isIncremental: false),
                                    this: statements.relation(test.subject))
            }, relationOf: { statements.relation($0, sources: project.sources) })
            let failing = try await session.count(query)
            let millis = clock.duration(to: .now).milliseconds
            if failing == 0 {
                context.reportStep(NodeStep(name: test.name, kind: "test", status: .succeeded, rows: 0, durationMillis: millis))
                return .passed
            }
            context.reportStep(NodeStep(name: test.name, kind: "test", status: test.warnOnly ? .warned : .failed, rows: failing, durationMillis: millis,
                                        message: "\(failing) failing row\(failing == 1 ? "" : "s") (\(test.file) line \(test.line))", sql: query))
            return .failed
        } catch {
            let message = (error as? ModelTemplate.Failure)?.message ?? "\(error)"
            context.reportStep(NodeStep(name: test.name, kind: "test", status: .failed, durationMillis: clock.duration(to: .now).milliseconds,
                                        message: "\(test.file) line \(test.line): \(message)", sql: query.isEmpty ? nil : query))
            return .failed
        }
    }
}

/// Open sessions handed to model builds one at a time: a build takes an idle one or opens a new one.
final class SessionPool: Sendable {
    private let idle: Mutex<[any SQLSession]>
    private let open: @Sendable () async throws -> any SQLSession

    init(first: any SQLSession, open: @escaping @Sendable () async throws -> any SQLSession) {
        idle = Mutex([first])
        self.open = open
    }

    func take() async throws -> any SQLSession {
        if let session = idle.withLock({ $0.popLast() }) { return session }
        return try await open()
    }

    func give(_ session: any SQLSession) { idle.withLock { $0.append(session) } }

    func closeAll() async {
        for session in idle.withLock({ sessions in defer { sessions = [] }; return sessions }) { await session.close() }
    }
}

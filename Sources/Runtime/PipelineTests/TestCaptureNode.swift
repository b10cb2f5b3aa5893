import Columnar
import NodeKit
import Synchronization

/// Stands in for a sink in a pipeline test, or listens on a node's output: keeps the rows that reach it on the
/// board under its token (an empty token keeps nothing). Registered only in the test runner's registry.
struct TestCaptureNode: NodeType {
    static let token = Field<String>("token", summary: "Where the board keeps the rows.", default: "")
    static let spec = NodeSpec(
        id: "test.capture", version: 1, category: .sink, title: "Test capture", summary: "Keeps the rows that reach it, for a test's expectations.",
        inputs: [.data("in", optional: true)], outputs: [], fields: [token.spec], capabilities: [.fanIn], icon: "flask-conical")

    let token: String

    init(settings: Settings) throws(ConfigError) { token = try settings[Self.token] }

    func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: [:], work: Work(token: token, schema: request.inputs["in"]?.first ?? Schema([])))
    }

    struct Work: NodeWork {
        let token: String
        let schema: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            CaptureBoard.open(token, schema: schema)
            for try await batch in context.input("in") where !token.isEmpty { CaptureBoard.add(token, batch) }
            return nil
        }
    }
}

/// The rows test captures collected, by token; the runner takes them out after each test.
enum CaptureBoard {
    /// The most rows one capture keeps: tests are for small inputs.
    static let maxRows = 100_000

    struct Captured: Sendable {
        var schema: Schema
        var batches: [RecordBatch] = []
        var rows = 0
        var overflowed = false
    }

    private static let board = Mutex<[String: Captured]>([:])

    static func open(_ token: String, schema: Schema) {
        guard !token.isEmpty else { return }
        board.withLock { if $0[token] == nil { $0[token] = Captured(schema: schema) } }
    }

    static func add(_ token: String, _ batch: RecordBatch) {
        board.withLock { board in
            guard var captured = board[token] else { return }
            if captured.rows + batch.count > maxRows { captured.overflowed = true } else {
                captured.batches.append(batch)
                captured.rows += batch.count
            }
            board[token] = captured
        }
    }

    static func take(_ token: String) -> Captured? { board.withLock { $0.removeValue(forKey: token) } }
}

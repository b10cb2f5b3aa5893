import Columnar
public import NodeKit

/// Passes the first `count` rows (after skipping `offset`), then stops reading its input.
public struct LimitNode: NodeType {
    static let count = Field<Int>("count", summary: "How many rows to pass.", example: "100")
    static let offset = Field<Int>("offset", summary: "How many rows to skip first.", default: 0)
    public static let spec = NodeSpec(
        id: "limit", version: 1, category: .transform, title: "Limit",
        summary: "Passes the first N rows and stops reading.",
        inputs: [.data("in")], outputs: [.data("out")], fields: [count.spec, offset.spec], icon: "scissors")

    let count: Int
    let offset: Int

    public init(settings: Settings) throws(ConfigError) {
        count = try settings[Self.count]
        offset = try settings[Self.offset]
        if count < 0 { throw settings.error(Self.count, "count must be ≥ 0") }
        if offset < 0 { throw settings.error(Self.offset, "offset must be ≥ 0") }
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        NodePlan(outputs: ["out": try request.input()], work: Work(count: count, offset: offset))
    }

    public func requiredInputColumns(for demand: Set<String>?) -> Set<String>? { demand }

    struct Work: NodeWork {
        let count: Int
        let offset: Int

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            var skipped = 0, passed = 0
            if count > 0 {
                for try await batch in context.input("in") {
                    var start = 0
                    if skipped < offset {
                        start = min(batch.count, offset - skipped)
                        skipped += start
                    }
                    let end = min(batch.count, start + (count - passed))
                    if end > start {
                        try await context.emit(batch.slice(start..<end), on: "out")
                        passed += end - start
                    }
                    if passed >= count { break }
                }
            }
            context.closeInput("in")
            return nil
        }
    }
}

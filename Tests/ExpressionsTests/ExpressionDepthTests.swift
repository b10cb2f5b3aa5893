import Columnar
import Testing
@testable import Expressions

/// Hostile expressions fail with `expression_too_deep` instead of exhausting a thread's stack, and
/// expressions up to the limit still bind and evaluate.
@Suite struct ExpressionDepthTests {
    static let hostile: [(String, String)] = [
        ("nested parentheses", String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)),
        ("chained +", (0..<10_000).map { _ in "a" }.joined(separator: " + ")),
        ("NOTs", String(repeating: "NOT ", count: 10_000) + "b"),
        ("ANDs", (0..<10_000).map { _ in "b" }.joined(separator: " AND ")),
        ("unary minus", String(repeating: "- ", count: 10_000) + "a"),
        ("nested calls", String(repeating: "abs(", count: 10_000) + "a" + String(repeating: ")", count: 10_000)),
    ]

    @Test(arguments: hostile)
    func hostileNestingIsRefused(name: String, text: String) {
        do {
            _ = try Expression(text)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.code == "expression_too_deep", "\(name): \(error)")
        }
    }

    @Test func expressionsJustUnderTheLimitBindAndEvaluate() throws {
        let schema = Schema([SchemaField("a", .int64)])
        var builder = ColumnBuilder(type: .int64)
        for value in 0..<1_000 { builder.appendInt64(Int64(value)) }
        let batch = RecordBatch(schema: schema, columns: [builder.finish()])
        let terms = Parser.maximumDepth - 2
        let sum = try Expression((0..<terms).map { _ in "a" }.joined(separator: " + ")).bind(to: schema).evaluate(batch)
        #expect(sum.column.value(at: 3) == .int(Int64(3 * terms)))
        let nested = String(repeating: "(", count: terms) + "a" + String(repeating: ")", count: terms)
        #expect(try Expression(nested).bind(to: schema).evaluate(batch).column.value(at: 7) == .int(7))
    }
}

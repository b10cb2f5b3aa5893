import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// pivot and unpivot against DuckDB's PIVOT and UNPIVOT on the same file.
@Suite struct PivotTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        try dir.write("sales.csv", """
        customer,country,amount
        ann,DE,10
        ann,DE,5
        ann,FR,7
        bob,FR,
        bob,US,3
        cid,US,4
        cid,XX,99
        ,DE,1
        """)
        try dir.write("wide.csv", """
        id,jan,feb,mar
        1,10,,30
        2,,,
        3,7,8,9
        """)
    }

    func run(_ node: String, _ file: String, schema: String) async throws -> String {
        let output = "out-\(UUID().uuidString.prefix(8)).csv"
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: shaped
        nodes:
          - {id: src, type: csv.read, settings: {path: \(file), schema: \(schema)}}
          - \(node)
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: p.in}
          - {from: p.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        return dir.file(output)
    }

    @Test(arguments: ["sum", "count", "avg", "min", "max"])
    func pivotMatchesDuckDB(function: String) async throws {
        let path = try await run("{id: p, type: pivot, settings: {index: [customer], column: country, value: amount, aggregate: \(function), values: [DE, FR, US]}}",
                                 "sales.csv", schema: "{customer: string, country: string, amount: int64}")
        let table = "read_csv('\(dir.file("sales.csv"))', header=true, columns={'customer': 'VARCHAR', 'country': 'VARCHAR', 'amount': 'BIGINT'})"
        #expect(GoldenReference.differences(actual: path, sql: """
            SELECT customer, "DE", "FR", "US" FROM (PIVOT (SELECT * FROM \(table) WHERE country IN ('DE', 'FR', 'US')) ON country IN ('DE', 'FR', 'US') USING \(function)(amount) GROUP BY customer)
            """) == nil, "\(function)")
    }

    @Test func unpivotMatchesDuckDB() async throws {
        let table = "read_csv('\(dir.file("wide.csv"))', header=true, columns={'id': 'BIGINT', 'jan': 'BIGINT', 'feb': 'BIGINT', 'mar': 'BIGINT'})"
        let path = try await run("{id: p, type: unpivot, settings: {columns: [jan, feb, mar], nameColumn: month, valueColumn: total}}",
                                 "wide.csv", schema: "{id: int64, jan: int64, feb: int64, mar: int64}")
        #expect(GoldenReference.differences(actual: path, sql: "UNPIVOT \(table) ON jan, feb, mar INTO NAME month VALUE total") == nil)
        let withNulls = try await run("{id: p, type: unpivot, settings: {columns: [jan, feb, mar], includeNulls: true}}",
                                      "wide.csv", schema: "{id: int64, jan: int64, feb: int64, mar: int64}")
        #expect(GoldenReference.differences(actual: withNulls, sql: "SELECT id, \"name\", \"value\" FROM \(table) UNPIVOT INCLUDE NULLS (\"value\" FOR \"name\" IN (jan, feb, mar))") == nil)
    }
}

import Foundation
import SluiceTestSupport
import Testing

/// `sluice models ls|graph` and `sluice run` of a models pipeline, with the real binary: the list in build order,
/// the graph as DOT and Mermaid, a broken project refused with its file and line, and steps printed by the run.
@Suite struct ModelsCommandTests {
    @Test func modelsAreListedGraphedAndBuilt() async throws {
        func sluice(_ arguments: [String], in directory: String) async throws -> ProcessResult {
            try await offThePool { try CommandLineTests.sluice(arguments, in: directory) }
        }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("connections.yaml", "wh: {type: sqlite, path: wh.db}\n")
        try dir.write("models/staging/stg_orders.sql", "-- materialized: table\nselect * from {{ source('raw', 'orders') }}\n")
        try dir.write("models/revenue.sql", "select sum(amount) as revenue from {{ ref('stg_orders') }}\n")
        try dir.write("models/schema.yaml", "sources:\n  - name: raw\n    tables: [{name: orders}]\nmodels:\n  - name: stg_orders\n    columns:\n      - name: id\n        tests: [not_null]\n")
        try dir.write("models.yaml", """
        apiVersion: sluice/v1
        name: models
        nodes:
          - {id: seed, type: sql.run, settings: {connection: wh, sql: "CREATE TABLE IF NOT EXISTS orders (id INTEGER, amount REAL); DELETE FROM orders; INSERT INTO orders VALUES (1, 2.5), (2, 4)"}}
          - {id: build, type: sql.models, settings: {connection: wh, path: models}}
        edges: [{from: seed.done, to: build.start, kind: signal}]
        """)
        let list = try await sluice(["models", "ls", "models"], in: dir.path)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.hasPrefix("stg_orders  (table, models/staging/stg_orders.sql)\n    reads: source raw.orders\n    tests: not_null(stg_orders.id)\nrevenue  (view"), "\(list.stdout)")
        let json = try await sluice(["models", "ls", "models", "--json"], in: dir.path)
        #expect(json.stdout.split(separator: "\n").count == 2 && json.stdout.contains(#""models":["stg_orders"]"#), "\(json.stdout)")
        let dot = try await sluice(["models", "graph", "models"], in: dir.path)
        #expect(dot.stdout.contains(#""raw.orders" -> "stg_orders";"#) && dot.stdout.contains(#""stg_orders" -> "revenue";"#), "\(dot.stdout)")
        let mermaid = try await sluice(["models", "graph", "models", "--format", "mermaid"], in: dir.path)
        #expect(mermaid.stdout.hasPrefix("flowchart LR\n") && mermaid.stdout.contains("n1 --> n2"), "\(mermaid.stdout)")

        // The source lives in the main database on SQLite, so the run reads it there.
        let run = try await sluice(["run", "models.yaml"], in: dir.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("build › ✔ stg_orders (table): succeeded, 2 rows"), "\(run.stdout)")
        #expect(run.stdout.contains("build › ✔ not_null(stg_orders.id) (test): succeeded"))

        try dir.write("models/loop.sql", "select * from {{ ref('loop') }}\n")
        let broken = try await sluice(["models", "ls", "models"], in: dir.path)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("models/loop.sql line 1: the models form a cycle: loop → loop"), "\(broken.stderr)")
    }
}

import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// sql.models against the run's throwaway PostgreSQL: dependency order, parallel branches, the atomic table swap
/// under a concurrent reader, incremental merges across runs, every test kind, errors with file and line.
@Suite struct SQLModelsPostgresTests {
    let dir: TemporaryDirectory
    let database: String
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        database = try PostgresTestServer.createDatabase()
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        warehouse: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: postgres, sslmode: disable}
        """)
        try psql("""
        CREATE SCHEMA raw;
        CREATE TABLE raw.orders (id int PRIMARY KEY, customer text, amount numeric(10,2), status text, updated_at int);
        INSERT INTO raw.orders VALUES (1, 'ada', 10, 'placed', 1), (2, 'bob', 20, 'shipped', 1), (3, 'ada', 5, 'placed', 1);
        """)
        try dir.write("models/schema.yaml", """
        version: 2
        sources:
          - name: raw
            tables: [{name: orders}]
        """)
    }

    @discardableResult
    func psql(_ sql: String) throws -> String { try PostgresTestServer.psql(database, sql) }

    func pipeline(_ settings: String = "") -> String {
        """
        apiVersion: sluice/v1
        name: models
        nodes:
          - {id: build, type: sql.models, settings: {connection: warehouse, path: models, schema: analytics\(settings)}}
        """
    }

    /// The final state of each step, in the order steps started.
    static func steps(_ run: HarnessRun) -> [NodeStep] {
        var order: [String] = []
        var last: [String: NodeStep] = [:]
        for case let .step(_, step) in run.events.events {
            if last[step.name] == nil { order.append(step.name) }
            last[step.name] = step
        }
        return order.map { last[$0]! }
    }

    /// Each step event in order as "name:status".
    static func timeline(_ run: HarnessRun) -> [String] {
        run.events.events.compactMap { if case let .step(_, step) = $0 { "\(step.name):\(step.status.rawValue)" } else { nil } }
    }

    @Test func modelsBuildInDependencyOrderWithIndependentBranchesInParallel() async throws {
        try dir.write("models/stg_orders.sql", "-- materialized: table\nselect id, customer, amount from {{ source('raw', 'orders') }}\n")
        try dir.write("models/by_customer.sql", "select customer, sum(amount) as total, pg_sleep(0.4) is null as slept from {{ ref('stg_orders') }} group by customer\n")
        try dir.write("models/big.sql", "-- materialized: table\nselect id, pg_sleep(0.4) is null as slept from {{ ref('stg_orders') }} where amount > 6\n")
        try dir.write("models/report.sql", "select c.customer, c.total, (select count(*) from {{ ref('big') }}) as big_orders from {{ ref('by_customer') }} c\n")
        let run = try await harness.run(pipeline(", threads: 2"))
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let timeline = Self.timeline(run)
        func index(_ event: String) -> Int { timeline.firstIndex(of: event) ?? -1 }
        #expect(index("stg_orders:succeeded") < index("by_customer:running"))
        #expect(index("stg_orders:succeeded") < index("big:running"))
        // Both branches started before either ended: they ran at the same time.
        #expect(max(index("by_customer:running"), index("big:running")) < min(index("by_customer:succeeded"), index("big:succeeded")))
        #expect(index("by_customer:succeeded") < index("report:running") && index("big:succeeded") < index("report:running"))
        #expect(try psql("SELECT customer, total, big_orders FROM analytics.report ORDER BY customer") == "ada|15.00|2\nbob|20.00|2")
        #expect(try psql("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'analytics' ORDER BY 1")
                == "big|BASE TABLE\nby_customer|VIEW\nreport|VIEW\nstg_orders|BASE TABLE")
        let steps = Self.steps(run)
        #expect(steps.first { $0.name == "stg_orders" }?.rows == 3)
        #expect(steps.allSatisfy { $0.durationMillis != nil })
    }

    @Test func aReaderDuringRebuildsSeesTheOldTableOrTheNewNeverAnEmptyOrHalfOne() async throws {
        try dir.write("models/wide.sql", "-- materialized: table\nselect g as id, md5(g::text) as label from generate_series(1, 100000) g\n")
        let first = try await harness.run(pipeline())
        #expect(first.summary.status == .succeeded)
        // An outside reader counts the table as fast as it can while the table is rebuilt four times.
        let script = """
        for i in $(seq 1 400); do
          [ -f '\(dir.path)/stop' ] && break
          psql -X -At -h 127.0.0.1 -p \(try PostgresTestServer.port) -U postgres -d \(database) -c 'SELECT count(*) FROM analytics.wide' 2>&1
        done > '\(dir.path)/counts.txt'
        touch '\(dir.path)/reader-done'
        """
        try dir.write("reader.sh", script)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = [dir.file("reader.sh")]
        try reader.run()
        for _ in 0..<4 {
            let run = try await harness.run(pipeline())
            #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        }
        try dir.write("stop", "")
        try await offThePool { reader.waitUntilExit() }
        let counts = try dir.read("counts.txt").split(separator: "\n")
        #expect(counts.count > 5)
        #expect(counts.allSatisfy { $0 == "100000" }, "\(Set(counts))")
    }

    @Test func incrementalModelsMergeNewRowsOnTheirUniqueKeyAcrossRuns() async throws {
        try dir.write("models/orders.sql", """
        {{ config(materialized='incremental', unique_key='id') }}
        select id, customer, amount, updated_at from {{ source('raw', 'orders') }}
        {% if is_incremental() %}
        where updated_at > (select coalesce(max(updated_at), 0) from {{ this }})
        {% endif %}
        """)
        let first = try await harness.run(pipeline())
        #expect(first.summary.status == .succeeded)
        #expect(Self.steps(first).first?.kind == "incremental (first build)")
        #expect(Self.steps(first).first?.rows == 3)
        try psql("UPDATE raw.orders SET amount = 11, updated_at = 2 WHERE id = 1; INSERT INTO raw.orders VALUES (4, 'cy', 40, 'placed', 2)")
        let second = try await harness.run(pipeline())
        #expect(second.summary.status == .succeeded, "\(second.summary.error ?? "")")
        #expect(Self.steps(second).first?.kind == "incremental")
        #expect(Self.steps(second).first?.rows == 2)
        #expect(try psql("SELECT id, amount FROM analytics.orders ORDER BY id") == "1|11.00\n2|20.00\n3|5.00\n4|40.00")
        let third = try await harness.run(pipeline())
        #expect(Self.steps(third).first?.rows == 0)
        #expect(try psql("SELECT count(*) FROM analytics.orders") == "4")
        let refreshed = try await harness.run(pipeline(", fullRefresh: true"))
        #expect(Self.steps(refreshed).first?.kind == "incremental (full refresh)")
        #expect(Self.steps(refreshed).first?.rows == 4)
    }

    @Test func eachTestKindPassesAndFailsAndWarnOnlyWarns() async throws {
        try dir.write("models/customers.sql", "-- materialized: table\nselect distinct customer from {{ source('raw', 'orders') }}\n")
        try dir.write("models/stg.sql", "-- materialized: table\nselect * from {{ source('raw', 'orders') }}\n")
        try dir.write("models/schema.yaml", """
        version: 2
        sources:
          - name: raw
            tables: [{name: orders}]
        models:
          - name: stg
            columns:
              - name: id
                tests: [not_null, unique]
              - name: status
                data_tests:
                  - accepted_values: {values: [placed, shipped]}
              - name: customer
                tests:
                  - relationships: {to: "ref('customers')", field: customer}
        """)
        try dir.write("tests/no_big_amounts.sql", "select * from {{ ref('stg') }} where amount > 100\n")
        let passing = try await harness.run(pipeline())
        #expect(passing.summary.status == .succeeded, "\(passing.summary.error ?? "")")
        let tests = Self.steps(passing).filter { $0.kind == "test" }
        #expect(tests.map(\.name).sorted() == ["accepted_values(stg.status)", "no_big_amounts", "not_null(stg.id)", "relationships(stg.customer → customers.customer)",
                                               "unique(stg.id)"])
        #expect(tests.allSatisfy { $0.status == .succeeded && $0.rows == 0 })

        try psql("ALTER TABLE raw.orders DROP CONSTRAINT orders_pkey; ALTER TABLE raw.orders ALTER COLUMN id DROP NOT NULL; INSERT INTO raw.orders VALUES (3, 'ghost', 500, 'lost', 1), (NULL, 'ada', 1, 'placed', 1)")
        let failing = try await harness.run(pipeline())
        #expect(failing.summary.status == .failed)
        let failed = Dictionary(uniqueKeysWithValues: Self.steps(failing).map { ($0.name, $0) })
        #expect(failed["not_null(stg.id)"]?.status == .failed && failed["not_null(stg.id)"]?.rows == 1)
        #expect(failed["unique(stg.id)"]?.status == .failed && failed["unique(stg.id)"]?.rows == 1)
        #expect(failed["accepted_values(stg.status)"]?.status == .failed)
        #expect(failed["no_big_amounts"]?.status == .failed && failed["no_big_amounts"]?.sql?.contains("amount > 100") == true)
        #expect(failed["stg"]?.status == .failed)
        #expect(failed["accepted_values(stg.status)"]?.message?.contains("models/schema.yaml line 12") == true)
        // customers was built from the same rows, so the relationship holds.
        #expect(failed["relationships(stg.customer → customers.customer)"]?.status == .succeeded)
        try psql("DELETE FROM raw.orders WHERE id IS NULL; DELETE FROM raw.orders WHERE customer = 'ghost'")
        try psql("INSERT INTO raw.orders VALUES (9, 'eve', 1, 'odd', 1)")
        try dir.write("models/schema.yaml", try dir.read("models/schema.yaml").replacingOccurrences(of: "{values: [placed, shipped]}", with: "{values: [placed, shipped], config: {severity: warn}}"))
        let warned = try await harness.run(pipeline())
        #expect(warned.summary.status == .succeeded, "\(warned.summary.error ?? "")")
        let warnedSteps = Dictionary(uniqueKeysWithValues: Self.steps(warned).map { ($0.name, $0) })
        #expect(warnedSteps["accepted_values(stg.status)"]?.status == .warned)
        #expect(warnedSteps["stg"]?.status == .warned)
    }

    @Test func aFailingModelNamesItsFileAndLineAndSkipsWhatReadsIt() async throws {
        try dir.write("models/staging/stg.sql", "-- materialized: table\nselect id,\n       amonut\nfrom {{ source('raw', 'orders') }}\n")
        try dir.write("models/after.sql", "select * from {{ ref('stg') }}\n")
        try dir.write("models/other.sql", "select 1 as one\n")
        let run = try await harness.run(pipeline())
        #expect(run.summary.status == .failed)
        let steps = Dictionary(uniqueKeysWithValues: Self.steps(run).map { ($0.name, $0) })
        #expect(steps["stg"]?.status == .failed)
        #expect(steps["stg"]?.message?.contains("models/staging/stg.sql line 3") == true, "\(steps["stg"]?.message ?? "")")
        #expect(steps["stg"]?.message?.contains("amonut") == true)
        #expect(steps["stg"]?.sql?.contains("CREATE TABLE") == true)
        #expect(steps["after"]?.status == .skipped)
        #expect(steps["other"]?.status == .succeeded)
        #expect(run.summary.error?.contains("1 of 3 models failed (stg), 1 skipped") == true, "\(run.summary.error ?? "")")
    }

    @Test func cyclesUnknownRefsAndBadSettingsAreRefusedBeforeTheRun() async throws {
        try dir.write("models/a.sql", "select * from {{ ref('b') }}\n")
        try dir.write("models/b.sql", "select 1 as x\nunion all select * from {{ ref('a') }}\n")
        let cycle = await harness.problems(pipeline())
        #expect(cycle.first?.code == "invalid_model")
        #expect(cycle.first?.message.contains("cycle: a → b → a") == true, "\(cycle)")
        #expect(cycle.first?.location?.file == "models/b.sql" && cycle.first?.location?.line == 2)

        try dir.write("models/b.sql", "select 1 as x\nfrom {{ ref('nowhere') }}\n")
        let unknown = await harness.problems(pipeline())
        #expect(unknown.first?.message.contains("ref('nowhere') names no model") == true)
        #expect(unknown.first?.location?.line == 2)

        try dir.write("models/b.sql", "-- materialized: snapshot\nselect 1 as x\n")
        #expect(await harness.problems(pipeline()).first?.message.contains("view, table or incremental") == true)
        try dir.write("models/b.sql", "select 1 as x\n")
        #expect(await harness.problems(pipeline(", select: [missing+]")).first?.code == "unknown_model")
        #expect(await harness.problems("""
        apiVersion: sluice/v1
        name: models
        nodes:
          - {id: build, type: sql.models, settings: {connection: warehouse, path: ../elsewhere}}
        """).isEmpty == false)
    }

    @Test func modelsAtTheWorkspaceRootLookForNoTestsOutsideIt() async throws {
        // The default tests folder sits beside the models folder: for models at the workspace's root that place is
        // outside the workspace, and is not read (a tests folder there would have been refused).
        try dir.write("ws/only.sql", "select 1 as x\n")
        try dir.write("tests/outside.sql", "select 1 from {{ ref('only') }}\n")
        var confined = harness
        confined.fileRoots = .confined(to: [dir.path + "/ws"])
        let problems = await confined.problems("""
        apiVersion: sluice/v1
        name: models
        nodes:
          - {id: build, type: sql.models, settings: {connection: warehouse, path: .}}
        """)
        #expect(problems.isEmpty, "\(problems)")
        // One-character and trailing-slash paths (which trap in Foundation's path functions) get a plain answer.
        for path in ["a", "x/", "./"] {
            let answer = await confined.problems("apiVersion: sluice/v1\nname: m\nnodes:\n  - {id: b, type: sql.models, settings: {connection: warehouse, path: '\(path)'}}\n")
            #expect(path == "./" ? answer.isEmpty : answer.first?.message.contains("there is no folder") == true, "\(path): \(answer)")
        }
    }

    @Test func selectBuildsANameWithWhatItReadsOrWhatReadsIt() async throws {
        try dir.write("models/a.sql", "select 1 as x\n")
        try dir.write("models/b.sql", "select * from {{ ref('a') }}\n")
        try dir.write("models/c.sql", "select * from {{ ref('b') }}\n")
        try dir.write("models/d.sql", "select 2 as y\n")
        let upstream = try await harness.run(pipeline(", select: ['+b']"))
        #expect(Self.steps(upstream).map(\.name) == ["a", "b"])
        let downstream = try await harness.run(pipeline(", select: ['b+', d]"))
        #expect(Set(Self.steps(downstream).map(\.name)) == ["b", "c", "d"])
    }

    @Test func reloadingAStagingTableThatModelsReadKeepsTheirViews() async throws {
        try dir.write("models/stg.sql", "select id, amount * 2 as doubled from {{ source('staging', 'orders') }}\n")
        try dir.write("models/schema.yaml", "sources:\n  - name: staging\n    tables: [{name: orders}]\n")
        func load(_ rows: String) async throws -> HarnessRun {
            try dir.write("orders.csv", "id,amount\n" + rows)
            return try await harness.run("""
            apiVersion: sluice/v1
            name: load
            nodes:
              - {id: src, type: csv.read, settings: {path: orders.csv}}
              - {id: stage, type: postgres.write, settings: {connection: warehouse, table: staging.orders, mode: replace}}
              - {id: build, type: sql.models, settings: {connection: warehouse, path: models, schema: analytics}}
              - id: check
                type: postgres.read
                settings: {connection: warehouse, query: "SELECT sum(doubled) AS total FROM analytics.stg", columns: {total: int64}}
            edges:
              - {from: src.out, to: stage.in}
              - {from: stage.done, to: build.start, kind: signal}
              - {from: build.done, to: check.start, kind: signal}
            """, preview: nil)
        }
        let first = try await load("1,10\n2,20\n")
        #expect(first.summary.status == .succeeded, "\(first.summary.error ?? "")")
        let second = try await load("3,5\n")
        #expect(second.summary.status == .succeeded, "\(second.summary.error ?? "")")
        #expect(second.events.messages.contains { $0.contains("views read staging.orders (analytics.stg): replacing its rows rather than the table") })
        #expect(try psql("SELECT id, doubled FROM analytics.stg") == "3|10")
        #expect(second.summary.counts("check")?.recordsOut == 1)
    }
}

import Foundation
import NodeKit
@testable import NodesSQL
import Runtime
import SluiceTestSupport
import Testing

/// dbt.build with real dbt (installed by scripts/setup) against the test PostgreSQL: models and tests become steps,
/// a failing test fails the node and skips what depends on it, the password reaches dbt only through its
/// environment, and a project cannot read the server's environment.
@Suite struct DBTBuildTests {
    @Test func aDbtProjectBuildsAndEachModelAndTestIsAStep() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try PostgresTestServer.createDatabase()
        let role = "dbt_" + UUID().uuidString.prefix(8).lowercased()
        let password = "pw-\(UUID().uuidString)"
        try PostgresTestServer.addPasswordRole(role, password: password, method: "scram-sha-256")
        try PostgresTestServer.psql(database, """
        CREATE SCHEMA raw; CREATE TABLE raw.orders AS SELECT g AS id, g % 3 AS customer, g * 2 AS amount FROM generate_series(1, 30) g;
        GRANT USAGE ON SCHEMA raw TO \(role); GRANT SELECT ON raw.orders TO \(role); GRANT CREATE ON DATABASE \(database) TO \(role);
        """)
        setenv("SLUICE_SERVER_ONLY_SECRET", "server-secret", 1)
        try dir.write("shop/dbt_project.yml", "name: shop\nversion: '1.0'\nprofile: shop\n")
        try dir.write("shop/models/stg_orders.sql", "{{ config(materialized='table') }}\nselect id, customer, amount, '{{ env_var('SLUICE_SERVER_ONLY_SECRET', 'absent') }}' as seen from {{ source('raw', 'orders') }}\n")
        try dir.write("shop/models/revenue.sql", "select customer, sum(amount) as total from {{ ref('stg_orders') }} group by customer\n")
        try dir.write("shop/models/schema.yml", """
        version: 2
        sources:
          - name: raw
            tables: [{name: orders}]
        models:
          - name: stg_orders
            columns:
              - name: id
                data_tests: [not_null, unique]
        """)
        let harness = try PipelineHarness(directory: dir, connectionsYAML: """
        warehouse: {type: postgres, host: 127.0.0.1, port: \(try PostgresTestServer.port), database: \(database), user: \(role), password: "${env:DBT_TEST_PASSWORD}", sslmode: disable}
        """, environment: ["DBT_TEST_PASSWORD": password])
        let pipeline = """
        apiVersion: sluice/v1
        name: dbt
        nodes:
          - {id: dbt, type: dbt.build, settings: {connection: warehouse, project: shop, schema: marts, threads: 2}}
        """
        let run = try await harness.run(pipeline)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "") \(run.events.messages)")
        var final: [String: NodeStep] = [:]
        for case let .step(_, step) in run.events.events { final[step.name] = step }
        #expect(final["stg_orders"]?.status == .succeeded && final["stg_orders"]?.rows == 30 && final["stg_orders"]?.kind == "table", "\(final)")
        #expect(final["revenue"]?.status == .succeeded && final["revenue"]?.kind == "view")
        #expect(final["not_null_stg_orders_id"]?.status == .succeeded && final["unique_stg_orders_id"]?.kind == "test")
        #expect(try PostgresTestServer.psql(database, "SELECT count(*), min(seen) FROM marts.stg_orders") == "30|absent")
        #expect(!"\(run.events.events)".contains(password))

        // A duplicate id fails the unique test: the node fails and the model reading it is skipped.
        try PostgresTestServer.psql(database, "INSERT INTO raw.orders VALUES (1, 1, 1)")
        let failing = try await harness.run(pipeline)
        #expect(failing.summary.status == .failed)
        final = [:]
        for case let .step(_, step) in failing.events.events { final[step.name] = step }
        #expect(final["unique_stg_orders_id"]?.status == .failed && final["unique_stg_orders_id"]?.rows == 1, "\(final)")
        #expect(final["unique_stg_orders_id"]?.sql?.contains("unique_field") == true)
        #expect(final["revenue"]?.status == .skipped)
        #expect(failing.summary.error?.contains("unique_stg_orders_id") == true, "\(failing.summary.error ?? "")")
        #expect(dir.files() == ["connections.yaml", "shop"], "dbt wrote nothing beside the project")
        #expect(!FileManager.default.fileExists(atPath: dir.file("shop/target")), "target/ went to a private folder")
    }

    @Test func missingDbtAndBadProjectsAreNamed() async throws {
        #expect(DBTProcess.locate(["PATH": "/nonexistent"]) == nil)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let harness = try PipelineHarness(directory: dir, connectionsYAML: """
        warehouse: {type: postgres, host: 127.0.0.1, port: 5432, database: x, user: y, sslmode: disable}
        local: {type: sqlite, path: x.db}
        """)
        func problems(_ settings: String) async -> [ConfigError] {
            await harness.problems("apiVersion: sluice/v1\nname: dbt\nnodes:\n  - {id: dbt, type: dbt.build, settings: {\(settings)}}\n")
        }
        #expect(await problems("connection: warehouse, project: nowhere").first?.message.contains("has no dbt_project.yml") == true)
        #expect(await problems("connection: local, project: nowhere").first?.code == "connection_type_mismatch")
        try dir.write("p/dbt_project.yml", "name: p\nprofile: p\n")
        #expect(await problems("connection: warehouse, project: p, target: 'a b'").first?.field == "target")
        #expect(await problems("connection: warehouse, project: p").isEmpty)
        #expect(await problems("connection: warehouse, project: p, select: ['--project-dir=/etc']").first?.field == "select")
        try dir.write("p/dbt_project.yml", "name: p\nprofile: p\nseed-paths: ['/var/lib']\n")
        #expect(await problems("connection: warehouse, project: p").first?.code == "path_outside_workspace")
        try dir.write("p/dbt_project.yml", "name: p\nprofile: p\nmacro-paths: ['macros', '../../elsewhere']\n")
        #expect(await problems("connection: warehouse, project: p").first?.message.contains("leaves the project folder") == true)
    }
}

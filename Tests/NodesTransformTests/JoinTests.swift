import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// join against DuckDB on the same files: every join type, NULL and duplicate keys, unicode, empty and one-row
/// inputs, keys with other names, the build side either way, and the spill path forced by a tiny memory limit.
@Suite struct JoinTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        try dir.write("orders.csv", """
        id,customer_id,amount,note
        1,1,12.5,first
        2,2,7.25,Zürich
        3,2,3.5,"with, comma"
        4,,9.75,no customer
        5,9,1.5,unknown customer
        6,3,2.25,東京
        7,1,4.5,
        """)
        try dir.write("customers.csv", """
        customer_id,name,note
        1,Ann,vip
        2,Bob,
        2,Bob (duplicate),dup
        3,Čeněk,
        4,Dee,never ordered
        ,Nobody,null key
        """)
        try dir.write("empty.csv", "customer_id,name,note\n")
        try dir.write("one.csv", "customer_id,name,note\n2,Bob,solo\n")
    }

    func join(_ settings: String, left: String = "orders.csv", right: String = "customers.csv") async throws -> String {
        let output = "out-\(UUID().uuidString.prefix(8)).csv"
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: joined
        nodes:
          - {id: o, type: csv.read, settings: {path: \(left)}}
          - {id: c, type: csv.read, settings: {path: \(right), schema: {customer_id: int64, name: string, note: string}}}
          - {id: j, type: join, settings: \(settings)}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: o.out, to: j.left}
          - {from: c.out, to: j.right}
          - {from: j.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        if settings.contains("memoryLimit: 300") {
            #expect(run.events.messages.contains { $0.contains("partitioning both inputs") }, "a 300-byte limit spills")
        }
        return dir.file(output)
    }

    func orders(_ file: String = "orders.csv") -> String { "read_csv('\(dir.file(file))', header=true)" }
    func customers(_ file: String = "customers.csv") -> String {
        "read_csv('\(dir.file(file))', header=true, columns={'customer_id': 'BIGINT', 'name': 'VARCHAR', 'note': 'VARCHAR'})"
    }

    @Test(arguments: ["auto", "left", "right"])
    func everyJoinTypeMatchesDuckDB(build: String) async throws {
        for memory in ["256MB", "300"] {
            let inner = try await join("{on: [customer_id], build: \(build), memoryLimit: \(memory)}")
            #expect(GoldenReference.differences(actual: inner, sql: """
                SELECT o.id, o.customer_id, o.amount, o.note, c.name, c.note AS note_right FROM \(orders()) o JOIN \(customers()) c ON o.customer_id = c.customer_id
                """) == nil, "inner, build \(build), memory \(memory)")
            let left = try await join("{type: left, on: [customer_id], build: \(build), memoryLimit: \(memory)}")
            #expect(GoldenReference.differences(actual: left, sql: """
                SELECT o.id, o.customer_id, o.amount, o.note, c.name, c.note AS note_right FROM \(orders()) o LEFT JOIN \(customers()) c ON o.customer_id = c.customer_id
                """) == nil, "left, build \(build), memory \(memory)")
            let right = try await join("{type: right, on: [customer_id], build: \(build), memoryLimit: \(memory)}")
            #expect(GoldenReference.differences(actual: right, sql: """
                SELECT o.id, COALESCE(o.customer_id, c.customer_id) AS customer_id, o.amount, o.note, c.name, c.note AS note_right
                FROM \(orders()) o RIGHT JOIN \(customers()) c ON o.customer_id = c.customer_id
                """) == nil, "right, build \(build), memory \(memory)")
            let full = try await join("{type: full, on: [customer_id], build: \(build), memoryLimit: \(memory)}")
            #expect(GoldenReference.differences(actual: full, sql: """
                SELECT o.id, COALESCE(o.customer_id, c.customer_id) AS customer_id, o.amount, o.note, c.name, c.note AS note_right
                FROM \(orders()) o FULL JOIN \(customers()) c ON o.customer_id = c.customer_id
                """) == nil, "full, build \(build), memory \(memory)")
            let semi = try await join("{type: semi, on: [customer_id], build: \(build), memoryLimit: \(memory)}")
            #expect(GoldenReference.differences(actual: semi, sql: """
                SELECT o.* FROM \(orders()) o SEMI JOIN \(customers()) c ON o.customer_id = c.customer_id
                """) == nil, "semi, build \(build), memory \(memory)")
            let anti = try await join("{type: anti, on: [customer_id], build: \(build), memoryLimit: \(memory)}")
            #expect(GoldenReference.differences(actual: anti, sql: """
                SELECT o.* FROM \(orders()) o ANTI JOIN \(customers()) c ON o.customer_id = c.customer_id
                """) == nil, "anti, build \(build), memory \(memory)")
        }
    }

    @Test func keysWithOtherNamesKeepBothColumnsAndEmptyOrOneRowInputsWork() async throws {
        let renamed = try await join("{type: left, on: [{left: id, right: customer_id}], rightSuffix: _c}")
        #expect(GoldenReference.differences(actual: renamed, sql: """
            SELECT o.id, o.customer_id, o.amount, o.note, c.customer_id AS customer_id_c, c.name, c.note AS note_c
            FROM \(orders()) o LEFT JOIN \(customers()) c ON o.id = c.customer_id
            """) == nil)
        let empty = try await join("{type: full, on: [customer_id]}", right: "empty.csv")
        #expect(GoldenReference.differences(actual: empty, sql: """
            SELECT o.id, o.customer_id, o.amount, o.note, CAST(NULL AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS note_right FROM \(orders()) o
            """) == nil)
        let one = try await join("{on: [customer_id]}", right: "one.csv")
        #expect(GoldenReference.differences(actual: one, sql: """
            SELECT o.id, o.customer_id, o.amount, o.note, c.name, c.note AS note_right FROM \(orders()) o JOIN \(customers("one.csv")) c ON o.customer_id = c.customer_id
            """) == nil)
    }

    @Test func planErrorsNameTheKeyAndTheTypes() async throws {
        do {
            _ = try await harness.run("""
            apiVersion: sluice/v1
            name: bad
            nodes:
              - {id: o, type: csv.read, settings: {path: orders.csv}}
              - {id: c, type: csv.read, settings: {path: customers.csv, schema: {customer_id: string}}}
              - {id: j, type: join, settings: {on: [customer_id, {left: note, right: nope}]}}
              - {id: out, type: csv.write, settings: {path: x.csv}}
            edges:
              - {from: o.out, to: j.left}
              - {from: c.out, to: j.right}
              - {from: j.out, to: out.in}
            """)
            Issue.record("planned a join of int64 with string")
        } catch let errors as ConfigErrors {
            let error = try #require(errors.errors.first)
            #expect(error.code == "type_mismatch" && error.node == "j" && error.field == "on", "\(error)")
            #expect(error.message.contains("int64") && error.message.contains("string"))
        }
    }
}

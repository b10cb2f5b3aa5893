import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// rows@1: rows written in the settings, with types inferred or declared, and bad values refused where written.
@Suite struct RowsNodeTests {
    @Test func typesAreInferredOrDeclaredAndMissingValuesAreNull() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try await PipelineHarness(directory: dir).run("""
        apiVersion: sluice/v1
        name: inline
        nodes:
          - id: src
            type: rows
            settings:
              schema: {day: date}
              rows:
                - {id: 1, price: 2, paid: true, note: "a, b", day: "2024-05-01"}
                - {id: 2, price: 2.5, paid: false, day: "2024-05-02"}
                - {id: 3, price: null, note: 7}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("out.csv") == "day,id,price,paid,note\n2024-05-01,1,2,true,\"a, b\"\n2024-05-02,2,2.5,false,\n,3,,,7\n")
        let plan = try await PipelineHarness(directory: dir).plan("""
        apiVersion: sluice/v1
        name: inline
        nodes:
          - {id: src, type: rows, settings: {schema: {day: date}, rows: [{id: 1, price: 2, paid: true, note: x, day: "2024-05-01"}, {price: 2.5}]}}
        edges: []
        """)
        #expect(plan.node("src")?.outputSchemas["out"]?.fields.map { "\($0.name) \($0.type)" } == ["day date", "id int64", "price float64", "paid bool", "note string"])
    }

    @Test func aValueThatDoesNotFitItsTypeIsRefusedWhereItIsWritten() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            _ = try await PipelineHarness(directory: dir).plan("""
            apiVersion: sluice/v1
            name: inline
            nodes:
              - {id: src, type: rows, settings: {schema: {day: date}, rows: [{day: "2024-05-01"}, {day: "someday"}]}}
            edges: []
            """)
            Issue.record("'someday' was taken as a date")
        } catch let errors as ConfigErrors {
            let error = errors.errors.first
            #expect(error?.node == "src" && error?.field == "rows[1].day" && error?.location?.line == 4, "\(errors)")
        }
    }
}

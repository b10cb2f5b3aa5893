import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Edges with `where` and `select`: rows and columns filtered on the way, one edge of a fan-out only, plan errors
/// naming the edge's field, and a condition that fails on a row rejecting that row.
@Suite struct EdgeFilterTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        try dir.write("in.csv", "id,country,amount,divisor\n1,DE,10,1\n2,FR,250,2\n3,DE,,1\n4,US,99,0\n5,DE,300,3\n")
    }

    @Test func anEdgeFiltersRowsAndColumnsForItsTargetOnly() async throws {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: routed
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: big, type: csv.write, settings: {path: big.csv}}
          - {id: all, type: csv.write, settings: {path: all.csv}}
        edges:
          - {from: src.out, to: big.in, where: "amount / divisor > 50 AND country = 'DE'", select: [amount, id]}
          - {from: src.out, to: all.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("big.csv") == "amount,id\n300,5\n")
        #expect(try dir.read("all.csv").split(separator: "\n").count == 6, "the other edge is untouched")
        #expect(run.rejects.count == 1 && run.rejects[0].record.code == "division_by_zero" && run.rejects[0].node == "src", "\(run.rejects.map(\.record))")
        #expect(run.rejects.first?.record.field == "edge src.out → big.in where")
    }

    @Test func edgeErrorsNameTheEdgeAndItsField() async throws {
        for (edge, field, fragment) in [("{from: src.out, to: out.in, select: [id, nope]}", "select", "selects 'nope'"),
                                        ("{from: src.out, to: out.in, where: \"nope > 1\"}", "where", "nope"),
                                        ("{from: src.out, to: out.in, where: \"amount >\"}", "where", "ends too early")] {
            do {
                _ = try await harness.run("""
                apiVersion: sluice/v1
                name: bad
                nodes:
                  - {id: src, type: csv.read, settings: {path: in.csv}}
                  - {id: out, type: csv.write, settings: {path: out.csv}}
                edges:
                  - \(edge)
                """)
                Issue.record("accepted \(edge)")
            } catch let errors as ConfigErrors {
                #expect(errors.errors.first?.field == field && errors.errors.first?.message.contains(fragment) == true, "\(edge): \(errors)")
            }
        }
    }
}

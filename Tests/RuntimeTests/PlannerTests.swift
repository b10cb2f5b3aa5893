import Columnar
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

@Suite struct PlannerTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        try dir.write("orders.csv", "id,status,amount,note\n1,paid,10.5,x\n2,open,3,y\n")
        harness = PipelineHarness(registry: testRegistry, directory: dir)
    }

    func pipeline(_ nodes: String, _ edges: String) -> String {
        "apiVersion: sluice/v1\nname: t\nnodes:\n\(nodes)\nedges:\n\(edges)\n"
    }

    @Test func cyclesNameTheirNodes() async {
        let problems = await harness.problems(pipeline("""
          - {id: src, type: test.generate}
          - {id: a, type: union}
          - {id: b, type: filter, settings: {where: "n > 0"}}
          - {id: c, type: limit, settings: {count: 1}}
        """, """
          - {from: src.out, to: a.in}
          - {from: a.out, to: b.in}
          - {from: b.out, to: c.in}
          - {from: c.out, to: a.in}
        """))
        #expect(problems.count == 1)
        #expect(problems.first?.code == "cycle")
        #expect(problems.first?.message.contains("a → b → c → a") == true, "\(problems)")
    }

    @Test func unknownColumnListsTheAvailableOnes() async {
        let problems = await harness.problems(pipeline("""
          - {id: orders, type: csv.read, settings: {path: orders.csv}}
          - {id: paid, type: filter, settings: {where: "stauts = 'paid'"}}
        """, "  - {from: orders.out, to: paid.in}"))
        #expect(problems.count == 1)
        let p = problems[0]
        #expect(p.code == "unknown_column" && p.node == "paid" && p.field == "where")
        #expect(p.message.contains("available columns: id, status, amount, note"))
        #expect(p.location?.line == 5)
    }

    @Test func nodesAreCheckedAsSoonAsTheyCanBe() async throws {
        // `paid`'s unknown column shows although `top` is unfinished (no count) and `loose` has no input yet; the
        // columns of the nodes that could be planned travel with the errors.
        let yaml = pipeline("""
          - {id: orders, type: csv.read, settings: {path: orders.csv}}
          - {id: paid, type: filter, settings: {where: "stauts = 'paid'"}}
          - {id: top, type: limit, settings: {}}
          - {id: loose, type: filter, settings: {where: "nope > 1"}}
        """, """
          - {from: orders.out, to: paid.in}
          - {from: orders.out, to: top.in}
        """)
        do {
            _ = try await harness.plan(yaml)
            Issue.record("the pipeline should not plan")
        } catch let error as ConfigErrors {
            let found = Set(error.errors.map { "\($0.node ?? "") \($0.code)" })
            #expect(found == ["paid unknown_column", "top missing_field", "loose unconnected_port"], "\(error.errors)")
            #expect(error.schemas["orders"]?["out"]?.fields.map(\.name) == ["id", "status", "amount", "note"])
            #expect(error.schemas["paid"] == nil && error.schemas["top"] == nil)
        }
    }

    @Test func theFullSchemasKeepColumnsProjectionDropped() async throws {
        let plan = try await harness.plan(pipeline("""
          - {id: orders, type: csv.read, settings: {path: orders.csv}}
          - {id: few, type: select, settings: {columns: [id]}}
          - {id: out, type: test.sink}
        """, """
          - {from: orders.out, to: few.in}
          - {from: few.out, to: out.in}
        """))
        #expect(plan.fullSchemas["orders"]?["out"]?.fields.map(\.name) == ["id", "status", "amount", "note"])
        #expect(plan.node("orders")?.outputSchemas["out"]?.fields.map(\.name) == ["id"])
    }

    @Test func everyProblemIsReportedAtOnce() async {
        let problems = await harness.problems(pipeline("""
          - {id: a, type: csv.reed, settings: {path: orders.csv}}
          - {id: b, type: filter, settings: {wher: "x"}}
          - {id: c, type: limit, settings: {count: 1}}
          - {id: c, type: limit, settings: {count: 2}}
        """, "  - {from: a.out, to: nowhere.in}"))
        let codes = Set(problems.map(\.code))
        #expect(codes.isSuperset(of: ["unknown_node_type", "unknown_key", "missing_field", "duplicate_id", "unknown_node"]), "\(problems)")
        #expect(problems.contains { $0.code == "unknown_node_type" && $0.message.contains("did you mean 'csv.read'") })
    }

    @Test func portsAreChecked() async {
        let problems = await harness.problems(pipeline("""
          - {id: a, type: test.generate}
          - {id: b, type: test.generate}
          - {id: f, type: filter, settings: {where: "n > 1"}}
          - {id: g, type: filter, settings: {where: "n > 1"}}
        """, """
          - {from: a.out, to: f.in}
          - {from: b.out, to: f.in}
          - {from: a.output, to: g.in}
        """))
        #expect(problems.contains { $0.code == "too_many_inputs" && $0.node == "f" })
        #expect(problems.contains { $0.code == "unknown_port" && $0.message.contains("no output port 'output'") && $0.expected?.contains("out") == true })
        #expect(problems.contains { $0.code == "unconnected_port" && $0.node == "g" })
    }

    @Test func schemasAreInferredBeforeDataMoves() async throws {
        let plan = try await harness.plan(pipeline("""
          - {id: orders, type: csv.read, settings: {path: orders.csv}}
          - {id: taxed, type: compute, settings: {columns: {total: "amount * 1.2", id: "CAST(id AS string)"}}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        """, "  - {from: orders.out, to: taxed.in}\n  - {from: taxed.out, to: out.in}"))
        let schema = try #require(plan.node("taxed")?.outputSchemas["out"])
        #expect(schema.fields == [SchemaField("id", .string), SchemaField("status", .string), SchemaField("amount", .float64),
                                  SchemaField("note", .string), SchemaField("total", .float64)])
        #expect(plan.nodes.map(\.id) == ["orders", "taxed", "out"])
    }

    @Test func projectionIsPushedDownToSources() async throws {
        let plan = try await harness.plan(pipeline("""
          - {id: orders, type: csv.read, settings: {path: orders.csv}}
          - {id: paid, type: filter, settings: {where: "status = 'paid'"}}
          - {id: totals, type: aggregate, settings: {aggregates: {total: "sum(amount)"}}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        """, """
          - {from: orders.out, to: paid.in}
          - {from: paid.out, to: totals.in}
          - {from: totals.out, to: out.in}
        """))
        #expect(plan.node("orders")?.outputSchemas["out"]?.names == ["status", "amount"])
    }

    @Test func previewKeepsOnlyUpstreamNodes() async throws {
        let plan = try await harness.plan(pipeline("""
          - {id: orders, type: csv.read, settings: {path: orders.csv}}
          - {id: paid, type: filter, settings: {where: "status = 'paid'"}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        """, "  - {from: orders.out, to: paid.in}\n  - {from: paid.out, to: out.in}"), preview: "paid")
        #expect(plan.nodes.map(\.id) == ["orders", "paid"])
        #expect(plan.node("orders")?.outputSchemas["out"]?.names == ["id", "status", "amount", "note"])
    }

    @Test func topologicalOrderReportsTheCycle() async {
        #expect(TopologicalOrder.sort(nodes: ["a", "b", "c"], edges: [("b", "c"), ("a", "b")]) == .success(["a", "b", "c"]))
        #expect(TopologicalOrder.sort(nodes: ["x", "a", "b"], edges: [("a", "b"), ("b", "a")]) == .failure(.init(nodes: ["a", "b", "a"])))
    }
}

import Foundation
import NodeKit
import NodesTransform
import Runtime
import SluiceTestSupport
import Testing

/// The `rejected` port: rejected records flow downstream as rows (a transform's input columns, a source's raw line)
/// with why, where and which node; unconnected, rejects behave as before; routed rejects are still kept in the
/// run's rejects but do not trip the run's reject policy.
@Suite struct ErrorPortTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        try dir.write("in.csv", "id,amount,divisor\n1,10,1\n2,20,0\n3,oops,3\n4,40,4\n")
    }

    @Test func rejectedRowsFlowToTheDeadLetterSink() async throws {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: dead-letters
        settings: {onRecordError: fail}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: int64, divisor: int64}}}
          - {id: ratio, type: compute, settings: {columns: {ratio: "amount / divisor"}}}
          - {id: good, type: csv.write, settings: {path: good.csv}}
          - {id: bad_rows, type: csv.write, settings: {path: bad-rows.csv}}
          - {id: bad_lines, type: csv.write, settings: {path: bad-lines.csv}}
        edges:
          - {from: src.out, to: ratio.in}
          - {from: src.rejected, to: bad_lines.in}
          - {from: ratio.out, to: good.in}
          - {from: ratio.rejected, to: bad_rows.in}
        """)
        #expect(run.summary.status == .succeeded, "routed rejects do not fail the run: \(run.summary.error ?? "")")
        #expect(try dir.read("good.csv") == "id,amount,divisor,ratio\n1,10,1,10\n4,40,4,10\n")
        let rows = try dir.read("bad-rows.csv").split(separator: "\n").map(String.init)
        #expect(rows.first == "id,amount,divisor,_error_code,_error_message,_node,_trace_id", "\(rows)")
        #expect(rows.count == 2 && rows[1].hasPrefix("2,20,0,division_by_zero,") && rows[1].contains(",ratio,\(run.summary.traceID)"), "\(rows)")
        let lines = try dir.read("bad-lines.csv").split(separator: "\n").map(String.init)
        #expect(lines.first == "_raw,_source,_line,_error_code,_error_message,_node,_trace_id", "\(lines)")
        #expect(lines.count == 2 && lines[1].hasPrefix("\"3,oops,3\",") && lines[1].contains(",4,invalid_value,"), "\(lines)")
        #expect(run.rejects.count == 2, "routed rejects are still kept with the run")
    }

    @Test func aDeadLetterBranchKeepsProjectionPushdown() async throws {
        // The consumer of the rejected rows reads only _raw; the source still reads only the columns its output needs.
        let document = """
        apiVersion: sluice/v1
        name: narrow
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: int64, divisor: int64}}}
          - {id: ids, type: select, settings: {columns: [id, amount]}}
          - {id: raw, type: select, settings: {columns: [_raw, _line]}}
          - {id: good, type: csv.write, settings: {path: ids.csv}}
          - {id: bad, type: csv.write, settings: {path: raw.csv}}
        edges:
          - {from: src.out, to: ids.in}
          - {from: ids.out, to: good.in}
          - {from: src.rejected, to: raw.in}
          - {from: raw.out, to: bad.in}
        """
        let plan = try await harness.plan(document)
        #expect(plan.node("src")?.outputSchemas["out"]?.names == ["id", "amount"], "\(plan.node("src")?.outputSchemas["out"]?.names ?? [])")
        let run = try await harness.run(document)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("ids.csv") == "id,amount\n1,10\n2,20\n4,40\n")
        #expect(try dir.read("raw.csv") == "_raw,_line\n\"3,oops,3\",4\n")
    }

    @Test func anUnconnectedPortKeepsTheRunsRejectPolicy() async throws {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: strict
        settings: {onRecordError: fail}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: string, divisor: int64}}}
          - {id: ratio, type: compute, settings: {columns: {ratio: "1 / divisor"}}}
          - {id: good, type: csv.write, settings: {path: good.csv}}
        edges:
          - {from: src.out, to: ratio.in}
          - {from: ratio.out, to: good.in}
        """)
        #expect(run.summary.status == .failed && run.summary.error?.contains("onRecordError is 'fail'") == true, "\(run.summary.error ?? "")")
    }

    @Test func onlyNodesThatRejectHaveThePort() async throws {
        #expect(ComputeNode.spec.allOutputs.contains { $0.name == "rejected" && $0.kind == .data })
        #expect(!LimitNode.spec.allOutputs.contains { $0.name == "rejected" })
        do {
            _ = try await harness.run("""
            apiVersion: sluice/v1
            name: no-port
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv}}
              - {id: top, type: limit, settings: {count: 1}}
              - {id: out, type: csv.write, settings: {path: x.csv}}
            edges:
              - {from: src.out, to: top.in}
              - {from: top.rejected, to: out.in}
            """)
            Issue.record("limit.rejected was accepted")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.first?.code == "unknown_port", "\(errors)")
        }
    }

    @Test func dedupeCanRejectItsDuplicates() async throws {
        try dir.write("dupes.csv", "id,customer,updated\n1,a,3\n2,b,1\n3,a,5\n4,a,4\n5,b,2\n")
        for (settings, kept, rejected) in [("{key: [customer], duplicates: reject}", ["1", "2"], ["3", "4", "5"]),
                                           ("{key: [customer], orderBy: [updated DESC], duplicates: reject}", ["3", "5"], ["1", "2", "4"])] {
            let name = UUID().uuidString.prefix(6)
            let run = try await harness.run("""
            apiVersion: sluice/v1
            name: dupes
            nodes:
              - {id: src, type: csv.read, settings: {path: dupes.csv}}
              - {id: d, type: dedupe, settings: \(settings)}
              - {id: out, type: csv.write, settings: {path: kept-\(name).csv}}
              - {id: dl, type: csv.write, settings: {path: dupes-\(name).csv}}
            edges:
              - {from: src.out, to: d.in}
              - {from: d.out, to: out.in}
              - {from: d.rejected, to: dl.in}
            """)
            #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
            let ids = { (file: String) in try dir.read(file).split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }.sorted() }
            #expect(try ids("kept-\(name).csv") == kept, "\(settings)")
            #expect(try ids("dupes-\(name).csv") == rejected, "\(settings)")
            #expect(try dir.read("dupes-\(name).csv").contains(",duplicate,"))
        }
    }
}

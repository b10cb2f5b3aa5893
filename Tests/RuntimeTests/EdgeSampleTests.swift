import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Edge samples: every run keeps each node output's first `sampleRows` rows and its row count, bounded
/// whatever the run's size, and nothing for previews or when `sampleRows` is 0.
@Suite struct EdgeSampleTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(registry: testRegistry, directory: dir)
    }

    func pipeline(settings: String = "", batches: Int = 50, rows: Int = 1000) -> String {
        """
        apiVersion: sluice/v1
        name: sampled
        \(settings)
        nodes:
          - {id: gen, type: test.generate, settings: {batches: \(batches), rows: \(rows)}}
          - {id: odd, type: filter, settings: {where: "n % 2 = 1"}}
          - {id: label, type: compute, settings: {columns: {text: "'row ' || n"}}}
          - {id: sink, type: test.sink}
        edges:
          - {from: gen.out, to: odd.in}
          - {from: odd.out, to: label.in}
          - {from: label.out, to: sink.in}
        """
    }

    @Test func eachOutputKeepsItsFirstRowsAndCountsEveryRow() async throws {
        let run = try await harness.run(pipeline())
        #expect(run.summary.status == .succeeded)
        let samples = run.result.samples
        #expect(samples.map { "\($0.node).\($0.port)" } == ["gen.out", "odd.out", "label.out"], "in pipeline order; a sink has no output")
        let gen = try #require(samples.first)
        #expect(gen.rowsSeen == 50_000)
        #expect(gen.rows.count == 20, "the default sampleRows")
        #expect(gen.rows.map { $0[0] } == (0..<20).map { Value.int(Int64($0)) }, "the first rows, in order")
        #expect(gen.origins == (1...20).map { "gen row \($0)" }, "a source without lines numbers its rows")
        let odd = try #require(samples.first { $0.node == "odd" })
        #expect(odd.origins.first == "gen row 2" && odd.origins.last == "gen row 40", "n = 1 is the second row; the filter keeps the trace")
        let label = try #require(samples.last)
        #expect(label.rowsSeen == 25_000)
        #expect(label.schema.names == ["n", "text"])
        #expect(label.rows.first == [.int(1), .string("row 1")])
        #expect(label.json.hasPrefix(#"{"columns":[{"name":"n","type":"int64"},{"name":"text","type":"string"}],"rows":[[1,"row 1"],[3,"row 3"]"#))
    }

    @Test func sampleRowsSetsTheSizeAndZeroKeepsNone() async throws {
        let five = try await harness.run(pipeline(settings: "settings: {sampleRows: 5}"))
        #expect(five.result.samples.allSatisfy { $0.rows.count == 5 })
        let none = try await harness.run(pipeline(settings: "settings: {sampleRows: 0}"))
        #expect(none.summary.status == .succeeded)
        #expect(none.result.samples.isEmpty)
        let problems = await harness.problems(pipeline(settings: "settings: {sampleRows: 5000}"))
        #expect(problems.map(\.field) == ["settings.sampleRows"])
        #expect(problems.first?.message.contains("0 (no samples) to 1000") == true)
    }

    @Test func previewsKeepNoSamples() async throws {
        let run = try await harness.run(pipeline(), preview: "label")
        #expect(run.result.samples.isEmpty)
    }

    @Test func aFailedRunKeepsWhatCrossedBeforeTheFailure() async throws {
        let yaml = """
        apiVersion: sluice/v1
        name: failing
        nodes:
          - {id: gen, type: test.generate, settings: {batches: 20, rows: 10}}
          - {id: step, type: test.fail, settings: {after: 3}}
          - {id: sink, type: test.sink}
        edges:
          - {from: gen.out, to: step.in}
          - {from: step.out, to: sink.in}
        """
        let run = try await harness.run(yaml)
        #expect(run.summary.status == .failed)
        let step = try #require(run.result.samples.first { $0.node == "step" })
        #expect(step.rowsSeen == 30, "three batches passed before the failure")
        #expect(step.rows.count == 20)
    }

    @Test func longTextsAreCutSoASampleStaysSmall() async throws {
        let long = String(repeating: "x", count: 50_000)
        try dir.write("long.csv", "id,text\n1,\(long)\n2,short\n")
        let yaml = """
        apiVersion: sluice/v1
        name: long
        nodes:
          - {id: read, type: csv.read, settings: {path: long.csv}}
          - {id: sink, type: test.sink}
        edges:
          - {from: read.out, to: sink.in}
        """
        let run = try await harness.run(yaml)
        let sample = try #require(run.result.samples.first)
        guard case let .string(text) = sample.rows[0][1] else { Issue.record("text expected"); return }
        #expect(text.count == 1001 && text.hasSuffix("…"))
        #expect(sample.rows[1][1] == .string("short"))
        #expect(sample.json.utf8.count < 2000)
    }

    @Test func wideRowsStopASampleAtAboutAMegabyte() async throws {
        // 200 columns of 1,000-character texts: 200 KB a row, so 1 MB holds about five of the 1000 rows asked for.
        let header = (0..<200).map { "c\($0)" }.joined(separator: ",")
        let row = Array(repeating: String(repeating: "w", count: 1000), count: 200).joined(separator: ",")
        try dir.write("wide.csv", header + "\n" + Array(repeating: row, count: 50).joined(separator: "\n") + "\n")
        let yaml = """
        apiVersion: sluice/v1
        name: wide
        settings: {sampleRows: 1000}
        nodes:
          - {id: read, type: csv.read, settings: {path: wide.csv}}
          - {id: sink, type: test.sink}
        edges:
          - {from: read.out, to: sink.in}
        """
        let run = try await harness.run(yaml)
        let sample = try #require(run.result.samples.first)
        #expect(sample.rowsSeen == 50)
        #expect((5...7).contains(sample.rows.count), "\(sample.rows.count) rows kept")
        #expect(sample.json.utf8.count < 1_400_000)
    }

    @Test func aConnectedRejectedPortIsSampledToo() async throws {
        try dir.write("bad.csv", "id,amount\n1,10\n2,oops\n3,30\n")
        let yaml = """
        apiVersion: sluice/v1
        name: rejects
        nodes:
          - {id: read, type: csv.read, settings: {path: bad.csv, schema: {amount: int64}}}
          - {id: good, type: test.sink}
          - {id: bad, type: test.sink, settings: {label: bad}}
        edges:
          - {from: read.out, to: good.in}
          - {from: read.rejected, to: bad.in}
        """
        let run = try await harness.run(yaml)
        #expect(run.result.samples.map(\.port) == ["out", "rejected"])
        let rejected = try #require(run.result.samples.last)
        #expect(rejected.rowsSeen == 1)
        #expect(rejected.schema.names.contains("_raw") && rejected.schema.names.contains("_error_message"))
    }
}

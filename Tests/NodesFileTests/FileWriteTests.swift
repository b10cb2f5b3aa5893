import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

@Suite struct FileWriteTests {
    func copy(_ input: String, _ sink: String, in dir: TemporaryDirectory, schema: String = "") async throws -> HarnessRun {
        try dir.write("in.csv", input)
        return try await PipelineHarness(directory: dir).run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv\(schema)}}
          - {id: out, type: \(sink)}
        edges:
          - {from: src.out, to: out.in}
        """)
    }

    @Test func csvRoundTripsEveryEdgeCase() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let input = "id,text,amount,day,at,flag\n1,\"a,b\",1.5,2024-01-31,2024-01-31T10:00:00Z,true\n2,\"say \"\"hi\"\"\",-2,1999-12-31,2024-01-31T10:00:00.25Z,false\n3,\"two\nlines\",,,,\n4,\"\",0.1,2000-02-29,1970-01-01T00:00:00Z,true\n"
        let run = try await copy(input, "csv.write, settings: {path: out.csv}", in: dir)
        #expect(run.summary.status == .succeeded)
        #expect(try dir.read("out.csv") == input)
    }

    @Test func nullTextAndDelimiterAreConfigurable() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let run = try await copy("a,b\n1,\n2,NULL\n", "csv.write, settings: {path: out.tsv, delimiter: tab, nullValue: 'NULL', lineEnding: crlf}", in: dir)
        #expect(run.summary.status == .succeeded)
        // The string "NULL" is quoted so it stays distinct from a real NULL.
        #expect(try dir.read("out.tsv") == "a\tb\r\n1\tNULL\r\n2\t\"NULL\"\r\n")
    }

    @Test func jsonLinesRoundTrip() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.jsonl", """
        {"id": 1, "name": "Ann \\"A\\"", "score": 1.5, "ok": true, "tags": ["x", "y"], "meta": {"k": 1}, "note": null}
        {"id": 2, "name": "Bo", "score": 2, "ok": false, "tags": [], "meta": {}, "note": "line\\nbreak"}
        """)
        let run = try await PipelineHarness(directory: dir).run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: jsonl.read, settings: {path: in.jsonl}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: src.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded)
        let lines = try dir.read("out.jsonl").split(separator: "\n")
        #expect(lines == [
            #"{"id":1,"name":"Ann \"A\"","score":1.5,"ok":true,"tags":["x","y"],"meta":{"k":1},"note":null}"#,
            #"{"id":2,"name":"Bo","score":2,"ok":false,"tags":[],"meta":{},"note":"line\nbreak"}"#,
        ])
    }

    @Test func jsonLinesRejectsBadLinesWithLineNumbers() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.jsonl", "{\"id\": 1}\n[1, 2]\n{\"id\": \"two\"}\n\n{broken\n{\"id\": 5}\n")
        let run = try await PipelineHarness(directory: dir).run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: jsonl.read, settings: {path: in.jsonl, schema: {id: int64}}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: src.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded)
        #expect(run.rejects.compactMap(\.record.line) == [2, 3, 5])
        #expect(try dir.read("out.jsonl") == "{\"id\":1}\n{\"id\":5}\n")
    }

    @Test func failedRunsLeaveNeitherTargetNorTemporaryFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", "n\n1\n2\n")
        let run = try await PipelineHarness(registry: testRegistry, directory: dir).run("""
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: boom, type: test.fail, settings: {after: 1}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
          - {id: other, type: csv.write, settings: {path: other.csv}}
        edges:
          - {from: src.out, to: boom.in}
          - {from: boom.out, to: out.in}
          - {from: src.out, to: other.in}
        """)
        #expect(run.summary.status == .failed)
        #expect(dir.files() == ["in.csv"], "\(dir.files())")
    }

    @Test func anExistingTargetIsReplacedOnlyOnCommit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("out.csv", "old\n")
        try dir.write("in.csv", "n\n1\n0\n")
        let yaml = { (policy: String) in """
        apiVersion: sluice/v1
        name: t
        settings: {onRecordError: \(policy)}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: calc, type: compute, settings: {columns: {inv: "1 / n"}}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: calc.in}
          - {from: calc.out, to: out.in}
        """ }
        let harness = PipelineHarness(directory: dir)
        #expect(try await harness.run(yaml("fail")).summary.status == .failed)
        #expect(try dir.read("out.csv") == "old\n")
        #expect(try await harness.run(yaml("reject")).summary.status == .succeeded)
        #expect(try dir.read("out.csv") == "n,inv\n1,1\n")
    }
}

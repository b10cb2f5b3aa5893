import BuiltinNodes
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing
@testable import Workers

/// Replay rewrites a pipeline so an earlier run's rejected records flow through it again: rejected lines are read
/// again by their source, rejected rows are fed into the node that refused them, only what is downstream runs,
/// and sinks never overwrite what the first run wrote.
@Suite struct ReplayDocumentTests {
    let dir: TemporaryDirectory
    let compiler: PipelineCompiler

    init() throws {
        dir = try TemporaryDirectory()
        compiler = PipelineCompiler(registry: BuiltinNodes.registry, files: .unconfined(base: dir.path), now: { 1_800_000_000_000_000 })
    }

    /// Runs `document` and returns its rejects as the store keeps them (node, JSON packet).
    func run(_ document: PipelineDocument) async throws -> (summary: RunSummary, rejects: [(node: String, json: String)]) {
        let plan = try await compiler.compile(document, parameters: RunParameters(), connections: ConnectionCatalog.empty)
        let rejects = MemoryRejectStore()
        let result = await RunExecutor().run(plan, options: RunOptions(runID: "run-1", events: EventLog(), rejects: rejects))
        return (result.summary, rejects.packets.map { ($0.node, $0.jsonLine) })
    }

    @Test func rejectedLinesAreReadAgainAndRowsAreFedBackWhileSinksKeepTheFirstOutput() async throws {
        try dir.write("orders.csv", "id,amount\n1,10\n2,oops\n3,0\n4,40\n")
        let original = try PipelineDocument.parse("""
            apiVersion: sluice/v1
            name: orders
            nodes:
              - {id: src, type: csv.read, settings: {path: orders.csv, schema: {id: int64, amount: int64}}}
              - {id: calc, type: compute, settings: {columns: {per_unit: "100 / amount"}}}
              - {id: out, type: csv.write, settings: {path: out.csv}}
            edges:
              - {from: src.out, to: calc.in}
              - {from: calc.out, to: out.in}
            """, file: dir.file("orders.yaml"))
        let first = try await run(original)
        #expect(first.summary.status == .succeeded)
        #expect(first.rejects.map(\.node).sorted() == ["calc", "src"], "one bad line (amount 'oops'), one division by zero")

        // The data is fixed and the division made safe, then the rejects are replayed.
        try dir.write("orders.csv", "id,amount\n1,10\n")
        var fixed = original
        fixed.nodes[1] = try PipelineDocument.parse("""
            apiVersion: sluice/v1
            name: orders
            nodes:
              - {id: calc, type: compute, settings: {columns: {per_unit: "100 / nullif(amount, 0)"}}}
            """).nodes[0]
        let plan = try await compiler.compile(fixed, parameters: RunParameters(), connections: ConnectionCatalog.empty)
        let replay = try ReplayDocument.make(original: fixed, plan: plan, rejects: first.rejects, directory: dir.file(".replay/run-2"), runID: "run-2abcdef")
        #expect(Set(replay.document.nodes.map(\.id)) == ["src", "calc", "replay__calc", "out"])
        #expect(replay.notes.contains("src: reading its 1 rejected line(s) again"))
        #expect(replay.notes.contains("calc: receiving its 1 rejected row(s) again"))
        #expect(replay.notes.contains { $0.hasPrefix("out: writing ") && $0.contains("out.replay-run-2abc.csv") }, "\(replay.notes)")
        #expect(try String(contentsOfFile: dir.file(".replay/run-2/src.csv"), encoding: .utf8) == "id,amount\n2,oops\n", "the header comes from the source file")

        let second = try await run(replay.document)
        #expect(second.summary.status == .succeeded, "\(second.summary.error ?? "")")
        #expect(second.rejects.map(\.node) == ["src"], "the bad line is still bad and is rejected again, not lost")
        #expect(try String(contentsOfFile: dir.file("out.replay-run-2abc.csv"), encoding: .utf8) == "id,amount,per_unit\n3,0,\n")
        #expect(try String(contentsOfFile: dir.file("out.csv"), encoding: .utf8).hasPrefix("id,amount,per_unit\n1,10,10"), "the first run's output is kept")
    }

    @Test func tableSinksAppendAndOnlyDownstreamOfTheReplayedNodesRuns() async throws {
        try dir.write("a.csv", "id\n1\n")
        let original = try PipelineDocument.parse("""
            apiVersion: sluice/v1
            name: two-branches
            nodes:
              - {id: a, type: csv.read, settings: {path: a.csv}}
              - {id: b, type: csv.read, settings: {path: a.csv}}
              - {id: keep, type: filter, settings: {where: "id > 0"}}
              - {id: load, type: sqlite.write, settings: {connection: local, table: t, mode: replace}}
              - {id: other, type: csv.write, settings: {path: other.csv}}
            edges:
              - {from: a.out, to: keep.in}
              - {from: keep.out, to: load.in}
              - {from: b.out, to: other.in}
            """, file: dir.file("p.yaml"))
        let catalog = ConnectionCatalog([Connection(name: "local", type: "sqlite", settings: Setting(.map([Setting.Entry(key: "path", keyLocation: nil, value: Setting(.string(dir.file("db.sqlite"))))])),
                                                    secrets: [:], location: nil)])
        let plan = try await compiler.compile(original, parameters: RunParameters(), connections: catalog)
        let packet = #"{"code":"x","message":"m","node":"keep","record":{"id":7}}"#
        let replay = try ReplayDocument.make(original: original, plan: plan, rejects: [("keep", packet)], directory: dir.file("r"), runID: "r1")
        #expect(Set(replay.document.nodes.map(\.id)) == ["replay__keep", "keep", "load"], "the other branch and the original source do not run")
        #expect(replay.document.nodes.first { $0.id == "load" }?.settings["mode"]?.scalarText == "append")
        #expect(replay.notes.contains("load: appending instead of replace"))
        #expect(try String(contentsOfFile: dir.file("r/keep.jsonl"), encoding: .utf8) == "{\"id\":7}\n")
    }

    @Test func nothingToReplayOrAVanishedNodeIsAClearError() async throws {
        try dir.write("a.csv", "id\n1\n")
        let original = try PipelineDocument.parse("""
            apiVersion: sluice/v1
            name: p
            nodes:
              - {id: a, type: csv.read, settings: {path: a.csv}}
            """, file: dir.file("p.yaml"))
        let plan = try await compiler.compile(original, parameters: RunParameters(), connections: ConnectionCatalog.empty)
        #expect(throws: ReplayDocument.Failure.self) { try ReplayDocument.make(original: original, plan: plan, rejects: [], directory: dir.file("r"), runID: "r") }
        do {
            _ = try ReplayDocument.make(original: original, plan: plan, rejects: [("gone", #"{"record":{"id":1}}"#)], directory: dir.file("r"), runID: "r")
            Issue.record("a reject of a removed node was replayed")
        } catch let failure as ReplayDocument.Failure {
            #expect(failure.description == "node 'gone' rejected records but is no longer in the pipeline")
        }
    }
}

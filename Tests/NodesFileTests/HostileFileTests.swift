import Columnar
import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Files an attacker (or an accident) hands a file node: a record with no end, invalid UTF-8, thousands of
/// columns, links out of the workspace. Each gives a clear error or rejected records, never a crash or
/// unbounded memory.
@Suite struct HostileFileTests {
    static func pipeline(_ type: String, _ path: String, settings: String = "", output: String = "out.jsonl") -> String {
        """
        apiVersion: sluice/v1
        name: t
        nodes:
          - {id: src, type: \(type), settings: {path: "\(path)"\(settings)}}
          - {id: out, type: jsonl.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: out.in}
        """
    }

    @Test(arguments: ["csv.read", "jsonl.read"])
    func aRecordWithNoEndFailsTheNodeInsteadOfGrowingMemory(type: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // A small first line (so a schema can be sampled), then 70 MiB without a line end.
        var bytes = Array((type == "csv.read" ? "a\nx\n" : "{\"a\": \"x\"}\n").utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "z"), count: 70 << 20)
        try dir.write("big", Data(bytes))
        let run = try await PipelineHarness(directory: dir).run(Self.pipeline(type, "big", settings: type == "csv.read" ? ", inferRows: 1" : ", inferRows: 1"))
        #expect(run.summary.status == .failed)
        #expect(run.summary.error?.contains("longer than 64 MiB") == true, "\(run.summary.error ?? "")")
    }

    @Test func invalidUTF8IsRejectedOrReplacedAsConfigured() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.csv", Data(Array("id,name\n1,ok\n2,bad".utf8) + [0xFF, 0xFE] + Array("\n3,é\n4,\"".utf8) + [0xED, 0xA0, 0x80] + Array("\"\n".utf8)))
        let harness = PipelineHarness(directory: dir)
        let rejected = try await harness.run(Self.pipeline("csv.read", "in.csv", settings: ", schema: {name: string}"))
        #expect(rejected.summary.status == .succeeded)
        #expect(rejected.rejects.compactMap(\.record.line) == [3, 5], "\(rejected.rejects.map(\.record.message))")
        #expect(rejected.rejects.allSatisfy { $0.record.message.contains("not valid UTF-8") })
        let written = try dir.read("out.jsonl")
        #expect(written == "{\"id\":1,\"name\":\"ok\"}\n{\"id\":3,\"name\":\"é\"}\n", "\(written)")

        let replaced = try await harness.run(Self.pipeline("csv.read", "in.csv", settings: ", schema: {name: string}, invalidText: replace", output: "fixed.jsonl"))
        #expect(replaced.rejects.isEmpty)
        #expect(try dir.read("fixed.jsonl").contains("\"bad\u{FFFD}\u{FFFD}\""))

        try dir.write("in.jsonl", Data(Array("{\"name\": \"ok\"}\n{\"name\": \"b".utf8) + [0xC0, 0xAF] + Array("d\"}\n".utf8)))
        let lines = try await harness.run(Self.pipeline("jsonl.read", "in.jsonl", output: "lines.jsonl"))
        #expect(lines.rejects.map(\.record.code) == ["invalid_text"] && lines.rejects.first?.record.line == 2)
        #expect(try dir.read("lines.jsonl") == "{\"name\":\"ok\"}\n")
    }

    @Test func wideFilesReadAndTooWideOnesFailWithTheLimit() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let wide = 5_000
        try dir.write("wide.csv", (0..<wide).map { "c\($0)" }.joined(separator: ",") + "\n" + (0..<wide).map { "\($0)" }.joined(separator: ",") + "\n")
        let run = try await PipelineHarness(directory: dir).run(Self.pipeline("csv.read", "wide.csv"))
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("out.jsonl").contains("\"c4999\":4999"))
        let tooWide = 20_000
        try dir.write("huge.csv", (0..<tooWide).map { "c\($0)" }.joined(separator: ",") + "\n")
        let problems = await PipelineHarness(directory: dir).problems(Self.pipeline("csv.read", "huge.csv"))
        #expect(problems.first?.code == "too_many_columns" && problems.first?.message.contains("16384") == true, "\(problems)")
    }

    @Test func aGlobMatchThatLinksOutOfTheWorkspaceIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("data/a.csv", "x\n1\n")
        try FileManager.default.createSymbolicLink(atPath: dir.file("data/b.csv"), withDestinationPath: "/etc/passwd")
        var harness = PipelineHarness(directory: dir)
        harness.fileRoots = .confined(to: [dir.path])
        let problems = await harness.problems(Self.pipeline("csv.read", "data/*.csv"))
        #expect(problems.first?.code == "path_outside_workspace" && problems.first?.field == "path" && problems.first?.node == "src", "\(problems)")
        // Unconfined (standalone runs), the same glob reads both: the user's own files.
        #expect(await PipelineHarness(directory: dir).problems(Self.pipeline("csv.read", "data/a.csv")).isEmpty)
    }
}

import Foundation
import SluiceTestSupport
import Testing

/// Runs the built `sluice` binary as a user would (scripts/test builds it before the tests run).
@Suite struct CommandLineTests {
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/sluice").path

    static func sluice(_ arguments: [String], in directory: String) throws -> ProcessResult {
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the binary first: swift build")
        return try runProcess(binary, arguments, in: directory)
    }

    @Test func initThenValidateThenRun() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(try Self.sluice(["init"], in: dir.path).status == 0)
        #expect(try Self.sluice(["init"], in: dir.path).status == 2, "init must not overwrite")
        let validate = try Self.sluice(["validate", "pipeline.yaml"], in: dir.path)
        #expect(validate.status == 0)
        #expect(validate.stdout.contains("totals (aggregate@1)"))
        let run = try Self.sluice(["run", "pipeline.yaml"], in: dir.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("10 records read") || run.stdout.contains("11 records read"))
        #expect(run.stdout.contains("1 rejected"))
        #expect(dir.exists("out/paid_by_country.csv"))
    }

    @Test func cronNextPrintsFireTimesWithOffsets() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let next = try Self.sluice(["cron", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--from", "2024-03-30T00:00:00Z", "--count", "3"], in: dir.path)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stdout == "2024-03-30T02:30:00+01:00\n2024-03-31T03:00:00+02:00\n2024-04-01T02:30:00+02:00\n")
        let bad = try Self.sluice(["cron", "next", "61 * * * *"], in: dir.path)
        #expect(bad.status == 2 && bad.stderr.contains("minute value 61 is outside 0-59"))
    }

    @Test func jsonEventsAreOneObjectPerLine() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.sluice(["init"], in: dir.path)
        let run = try Self.sluice(["run", "--json", "pipeline.yaml", "--param", "minAmount=100"], in: dir.path)
        #expect(run.status == 0)
        let events = run.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.count == run.stdout.split(separator: "\n").count)
        #expect(events.first?["event"] as? String == "run_started")
        let last = try #require(events.last)
        #expect(last["event"] as? String == "run_finished" && last["status"] as? String == "succeeded")
        #expect(last["rejected"] as? Int == 1)
    }

    @Test func invalidPipelinesExitTwoWithLocatedErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.sluice(["init"], in: dir.path)
        let text = try dir.read("pipeline.yaml").replacingOccurrences(of: "status = 'paid'", with: "stat = 'paid'")
        try dir.write("broken.yaml", text)
        let result = try Self.sluice(["run", "broken.yaml"], in: dir.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("broken.yaml:13:"), "\(result.stderr)")
        #expect(result.stderr.contains("node 'paid', field 'where': unknown column 'stat'"))
        #expect(try Self.sluice(["run", "missing.yaml"], in: dir.path).status == 2)
        #expect(try Self.sluice(["run", "pipeline.yaml", "--param", "nope=1"], in: dir.path).status == 2)
    }

    @Test func failedRunsExitOneAndLeaveNoOutput() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.sluice(["init"], in: dir.path)
        let text = try dir.read("pipeline.yaml").replacingOccurrences(of: "maxRejected: 100", with: "maxRejected: 0")
        try dir.write("strict.yaml", text)
        let result = try Self.sluice(["run", "strict.yaml"], in: dir.path)
        #expect(result.status == 1)
        #expect(result.stdout.contains("maxRejected = 0"))
        #expect(!dir.exists("out/paid_by_country.csv"))
        // The run may fail before the writer made its folder: no folder is no output too.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.file("out"))) ?? []).isEmpty)
    }

    @Test func previewPrintsRowsWithoutWriting() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try Self.sluice(["init"], in: dir.path)
        let result = try Self.sluice(["preview", "pipeline.yaml", "--node", "taxed", "--limit", "3"], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("amount_with_tax"))
        #expect(result.stdout.contains("3 rows"))
        #expect(!dir.exists("out/paid_by_country.csv"))
    }

    @Test func nodesCatalogIsListed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let table = try Self.sluice(["nodes"], in: dir.path)
        #expect(table.stdout.contains("csv.read@1") && table.stdout.contains("aggregate@1"))
        let json = try Self.sluice(["nodes", "--json"], in: dir.path)
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.isEmpty == false)
    }

    @Test func interruptingARunLeavesNoHalfFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // One-row batches make this run take seconds, so only the interrupt can end it early.
        var csv = "id,name\n"
        for i in 0..<400_000 { csv += "\(i),name \(i)\n" }
        try dir.write("big.csv", csv)
        try dir.write("copy.yaml", """
        apiVersion: sluice/v1
        name: copy
        nodes:
          - {id: src, type: csv.read, settings: {path: big.csv, batchRows: 1}}
          - {id: slow, type: compute, settings: {columns: {x: "regexp_matches(name, '^name [0-9]+$')"}}}
          - {id: out, type: csv.write, settings: {path: copy.csv}}
        edges:
          - {from: src.out, to: slow.in}
          - {from: slow.out, to: out.in}
        """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["run", "--json", "copy.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // Wait (without sleeping) until the sink has started, then interrupt.
        var seen = ""
        while !seen.contains("\"node\":\"out\",\"attempt\"") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        process.interrupt()
        let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(seen)\n---\n\(rest.suffix(600))")
        #expect(!dir.exists("copy.csv"))
        #expect(!dir.files().contains { $0.hasSuffix(".tmp") }, "temporary file left behind: \(dir.files())")
    }
}

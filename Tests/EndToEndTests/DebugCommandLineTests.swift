import Foundation
import SluiceTestSupport
import Testing

/// `sluice run FILE --break …`: the debug run pauses at the terminal, prints the batch with the matching row
/// marked, obeys step, continue and quit read from standard input, and commits only with `--commit`.
@Suite struct DebugCommandLineTests {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory()
        try dir.write("orders.csv", "id,amount,country\n" + (1...300).map { "\($0),\($0 * 10),\(["DE", "FR", "JP"][$0 % 3])" }.joined(separator: "\n") + "\n")
        try dir.write("pipeline.yaml", """
            apiVersion: sluice/v1
            name: debugged
            nodes:
              - {id: orders, type: csv.read, settings: {path: orders.csv}}
              - {id: big, type: filter, settings: {where: "amount > 1000"}}
              - {id: out, type: csv.write, settings: {path: out.csv}}
            edges:
              - {from: orders.out, to: big.in}
              - {from: big.out, to: out.in}
            """)
    }

    /// Runs sluice with `answers` piped to its standard input.
    func sluice(_ arguments: [String], answers: String) throws -> ProcessResult {
        let command = ([CommandLineTests.binary] + arguments).map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: " ")
        return try runProcess("/bin/sh", ["-c", "printf '\(answers)' | \(command)"], in: dir.path)
    }

    @Test func stepAndContinueThenCommitWritesWhatANormalRunWrites() throws {
        let normal = try CommandLineTests.sluice(["run", "pipeline.yaml"], in: dir.path)
        #expect(normal.status == 0)
        let expected = try dir.read("out.csv")
        try FileManager.default.removeItem(atPath: dir.file("out.csv"))

        let debug = try sluice(["run", "pipeline.yaml", "--break", "big:id = 150", "--break", "big.out->out.in", "--commit"], answers: "x\\ns\\nc\\nc\\nc\\nc\\nc\\n")
        #expect(debug.status == 0, "\(debug.stdout)\(debug.stderr)")
        #expect(debug.stdout.contains("paused before big takes its next batch (breakpoint big:id = 150)"), "\(debug.stdout)")
        #expect(debug.stdout.contains("matching row (orders: orders.csv line 151): id=150, amount=1500, country=DE"), "\(debug.stdout)")
        #expect(debug.stdout.contains("▶150"), "the matching row is marked: \(debug.stdout)")
        #expect(debug.stdout.contains("answer s, c or q"), "a wrong answer asks again")
        #expect(debug.stdout.contains("paused on the edge big.out → out.in"), "\(debug.stdout)")
        #expect(try dir.read("out.csv") == expected, "with --commit the debug run's output is the normal run's")
    }

    @Test func withoutCommitNothingIsWritten() throws {
        let debug = try sluice(["run", "pipeline.yaml", "--break", "big:amount > 2990"], answers: "c\\n")
        #expect(debug.status == 0, "\(debug.stdout)\(debug.stderr)")
        #expect(debug.stdout.contains("sinks commit nothing"))
        #expect(debug.stdout.contains("output not committed"))
        #expect(!dir.exists("out.csv"))
    }

    @Test func quitCancelsTheRunAndLeavesNoOutput() throws {
        let debug = try sluice(["run", "pipeline.yaml", "--break", "big", "--commit"], answers: "q\\n")
        #expect(debug.status == 130, "\(debug.stdout)\(debug.stderr)")
        #expect(debug.stdout.contains("stopping: the run is cancelled"))
        #expect(!dir.exists("out.csv"))
    }

    @Test func badBreakpointsAreRefusedBeforeTheRun() throws {
        let unknown = try sluice(["run", "pipeline.yaml", "--break", "nosuch"], answers: "")
        #expect(unknown.status == 2 && unknown.stderr.contains("there is no node 'nosuch'"), "\(unknown.stdout)\(unknown.stderr)")
        let malformed = try sluice(["run", "pipeline.yaml", "--break", "big:"], answers: "")
        #expect(malformed.status == 2 && malformed.stderr.contains("write NODE, NODE:CONDITION"), "\(malformed.stderr)")
        let badCondition = try sluice(["run", "pipeline.yaml", "--break", "big:amont > 1"], answers: "")
        #expect(badCondition.status == 2 && badCondition.stderr.contains("amont"), "\(badCondition.stderr)")
        #expect(!dir.exists("out.csv"))
    }
}

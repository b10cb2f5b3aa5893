import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// assert: the rows that pass are DuckDB's rows meeting the same conditions; failing rows are rejected with the
/// names of the checks they failed, fail the run at the first, or only count in a warning.
@Suite struct AssertTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        try dir.write("in.csv", """
        id,email,status,amount
        1,ann@example.com,paid,10.5
        2,,paid,3
        3,bob@example,open,-1
        4,cid@example.com,lost,7
        5,ann@example.com,paid,250
        6,dee@example.com,,0
        7,eve@example.com,open,
        """)
    }

    func run(_ settings: String) async throws -> (HarnessRun, String) {
        let output = "out-\(UUID().uuidString.prefix(8)).csv"
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: checked
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: check, type: assert, settings: \(settings)}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: check.in}
          - {from: check.out, to: out.in}
        """)
        return (run, dir.file(output))
    }

    static let checks = """
    {notNull: [email], unique: [email], accepted: {status: [paid, open]}, range: {amount: {min: 0, max: 100}},
     match: {email: '[^@ ]+@[^@ ]+\\.[a-z]+'}, expr: ["amount <> 7"]
    """

    @Test func failingRowsAreRejectedWithTheirChecks() async throws {
        let (run, path) = try await run(Self.checks + "}")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(GoldenReference.differences(actual: path, sql: """
            SELECT * FROM read_csv('\(dir.file("in.csv"))', header=true) WHERE id IN (1, 6, 7)
            """) == nil)
        let reasons = Dictionary(uniqueKeysWithValues: run.rejects.map { ($0.record.row ?? -1, $0.record.message) })
        #expect(reasons[1] == "failed notNull(email)", "\(reasons)")
        #expect(reasons[2] == "failed range(amount), match(email, [^@ ]+@[^@ ]+\\.[a-z]+)", "\(reasons)")
        #expect(reasons[3] == "failed accepted(status), amount <> 7", "\(reasons)")
        #expect(reasons[4] == "failed unique(email), range(amount)", "\(reasons)")
        #expect(run.rejects.allSatisfy { $0.record.code == "check_failed" })
    }

    @Test func failStopsAtTheFirstFailingRowAndWarnPassesEverything() async throws {
        let (failed, _) = try await run(Self.checks + ", onFail: fail}")
        #expect(failed.summary.status == .failed)
        #expect(failed.summary.error?.contains("row 2 failed notNull(email)") == true, "\(failed.summary.error ?? "")")
        let (warned, path) = try await run(Self.checks + ", onFail: warn}")
        #expect(warned.summary.status == .succeeded && warned.rejects.isEmpty)
        #expect(GoldenReference.differences(actual: path, sql: "SELECT * FROM read_csv('\(dir.file("in.csv"))', header=true)") == nil)
        #expect(warned.events.messages.contains { $0.contains("notNull(email): 1") && $0.contains("range(amount): 2") }, "\(warned.events.messages)")
    }
}

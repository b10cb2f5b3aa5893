import Columnar
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// `${name}` in plain text settings is the run parameter's value; expressions keep reading parameters typed.
@Suite struct SettingParametersTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        try dir.write("in-7.csv", "id,amount\n1,10\n2,30\n")
        harness = PipelineHarness(registry: testRegistry, directory: dir)
    }

    static let document = """
        apiVersion: sluice/v1
        name: t
        parameters:
          batch: {type: string, default: "0"}
          min: {type: int64, default: 0}
        nodes:
          - {id: read, type: csv.read, settings: {path: "in-${batch}.csv"}}
          - {id: keep, type: filter, settings: {where: "amount > ${min}"}}
          - {id: out, type: csv.write, settings: {path: "out-${batch}.csv"}}
        edges:
          - {from: read.out, to: keep.in}
          - {from: keep.out, to: out.in}
        """

    @Test func textSettingsTakeParameterValues() async throws {
        let run = try await harness.run(Self.document, parameters: ["batch": "7", "min": "15"])
        #expect(run.summary.status == .succeeded)
        #expect(try String(contentsOfFile: dir.file("out-7.csv"), encoding: .utf8) == "id,amount\n2,30\n")
    }

    @Test func anUnknownParameterNamesNodeFieldAndTheKnownOnes() async {
        let problems = await harness.problems(Self.document.replacingOccurrences(of: "in-${batch}", with: "in-${bacth}"))
        #expect(problems.count == 1)
        #expect(problems.first?.code == "unknown_parameter" && problems.first?.node == "read" && problems.first?.field == "path", "\(problems)")
        #expect(problems.first?.expected == "one of: batch, min")
    }
}

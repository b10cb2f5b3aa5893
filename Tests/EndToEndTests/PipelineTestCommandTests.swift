import Foundation
import SluiceTestSupport
import Testing

/// `sluice test` as a user runs it: the shipped example tests pass, a failing test prints a diff and exits 1,
/// JUnit XML for CI, `--update` writes the observed rows, sinks write nothing unless a test names them targets,
/// and a broken test file exits 2 naming its line.
@Suite struct PipelineTestCommandTests {
    func sluice(_ arguments: [String], in dir: TemporaryDirectory) throws -> ProcessResult {
        try CommandLineTests.sluice(arguments, in: dir.path)
    }

    @Test func theExampleTestsPassAndWriteNothing() throws {
        let dir = try ExamplesTests.copy()
        defer { dir.remove() }
        let result = try sluice(["test"], in: dir)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("paid-orders-by-country.test.yaml\n  ✔ only paid orders over the minimum count ("), "\(result.stdout)")
        #expect(result.stdout.contains("2 test(s): 2 passed, 0 failed"), "\(result.stdout)")
        #expect(!dir.exists("out/paid_by_country.csv"), "a test writes no sink")
    }

    @Test func aFailingTestShowsTheDifferenceAndTheJUnitReportHasIt() throws {
        let dir = try ExamplesTests.copy()
        defer { dir.remove() }
        try dir.write("wrong.test.yaml", """
        pipeline: paid-orders-by-country.yaml
        tests:
          - name: totals per country
            inputs:
              orders:
                schema: {amount: float64, created_at: timestamp}
                rows: [{id: 1, status: paid, amount: 60, country: DE, created_at: "2024-05-01T10:00:00Z"}, {id: 2, status: paid, amount: 80, country: "Côte d'Ivoire", created_at: "2024-05-01T11:00:00Z"}]
            expect:
              totals: {rows: [{country: DE, revenue: 61}, {country: "Côte d'Ivoire", revenue: 80}], count: 2}
              taxed: {every: ["amount_with_tax < 90"]}
        """)
        let result = try sluice(["test", "wrong.test.yaml", "--junit", "report.xml"], in: dir)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✘ totals per country"), "\(result.stdout)")
        #expect(result.stdout.contains("- {country: DE, revenue: 61}") && result.stdout.contains("+ {country: DE, revenue: 60}"), "\(result.stdout)")
        #expect(!result.stdout.contains("Ivoire\", revenue: 80}\n"), "the matching row is not part of the difference")
        #expect(result.stdout.contains("taxed: 1 row(s) break 'amount_with_tax < 90'"), "\(result.stdout)")
        let report = try dir.read("report.xml")
        #expect(report.contains("<testcase classname=\"wrong.test.yaml\" name=\"totals per country\""), "\(report)")
        #expect(report.contains("<failure message=\"totals: rows differ"), "\(report)")

        let updated = try sluice(["test", "wrong.test.yaml", "--update"], in: dir)
        #expect(updated.stdout.contains("updated wrong.test.yaml"), "\(updated.stdout)")
        let rewritten = try dir.read("wrong.test.yaml")
        #expect(rewritten.contains("- {country: DE, revenue: 60}"), "\(rewritten)")
        #expect(updated.stdout.contains("totals: rows differ") == false, "\(updated.stdout)")
        #expect(updated.status == 1, "the rule still fails: --update only rewrites rows")
    }

    @Test func targetsWriteForRealAndRejectsAreChecked() throws {
        let dir = try ExamplesTests.copy()
        defer { dir.remove() }
        try dir.write("target.test.yaml", """
        pipeline: paid-orders-by-country.yaml
        tests:
          - name: writes the sample totals
            targets: {save: {path: out/test-totals.csv}}
            expect:
              orders: {rejected: 1, rejects: [{code: invalid_value, line: 10, message: not-a-number}]}
              save: {count: 5}
        """)
        let result = try sluice(["test", "target.test.yaml"], in: dir)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try dir.read("out/test-totals.csv").hasPrefix("country,status,orders,revenue"))
        #expect(!dir.exists("out/paid_by_country.csv"))
    }

    @Test func brokenTestFilesExitTwoNamingTheLine() throws {
        let dir = try ExamplesTests.copy()
        defer { dir.remove() }
        try dir.write("broken.test.yaml", """
        pipeline: paid-orders-by-country.yaml
        tests:
          - name: typo
            expct: {totals: {count: 1}}
        """)
        let result = try sluice(["test", "broken.test.yaml"], in: dir)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("broken.test.yaml:4:5") && result.stderr.contains("unknown key 'expct' in a test"), "\(result.stderr)")
        try dir.write("ghost.test.yaml", """
        pipeline: paid-orders-by-country.yaml
        tests:
          - {name: ghost node, expect: {nowhere: {count: 1}}}
        """)
        let ghost = try sluice(["test", "ghost.test.yaml"], in: dir)
        #expect(ghost.status == 1 && ghost.stdout.contains("the pipeline has no node 'nowhere'; its nodes are: orders, paid, taxed, totals, save"), "\(ghost.stdout)")
    }
}

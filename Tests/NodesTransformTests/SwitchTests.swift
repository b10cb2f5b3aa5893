import Foundation
import NodeKit
import NodesTransform
import Runtime
import SluiceTestSupport
import Testing

/// switch against DuckDB's WHERE on the same file: each case's rows in `first` and `all` mode, NULL conditions
/// counting as no match, the default output, ports declared by settings in the planner and the catalog, and a
/// condition that fails on a row rejecting that row.
@Suite struct SwitchTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["id,country,amount,divisor"]
        for i in 1...5_000 {
            let country = ["DE", "FR", "US", "", "JP", "Zürich"][i % 6]
            let amount = i % 11 == 0 ? "" : String((i * 7919) % 3000)
            lines.append("\(i),\(country),\(amount),\(i % 7 + 1)")
        }
        try dir.write("in.csv", lines.joined(separator: "\n") + "\n")
    }

    var table: String {
        "read_csv('\(dir.file("in.csv"))', header=true, columns={'id': 'BIGINT', 'country': 'VARCHAR', 'amount': 'BIGINT', 'divisor': 'BIGINT'})"
    }

    func route(mode: String) async throws -> HarnessRun {
        try await harness.run("""
        apiVersion: sluice/v1
        name: routed
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, country: string, amount: int64, divisor: int64}}}
          - {id: sw, type: switch, settings: {mode: \(mode), cases: {big: "amount > 2000", eu: "country IN ('DE', 'FR')"}}}
          - {id: big, type: csv.write, settings: {path: \(mode)-big.csv}}
          - {id: eu, type: csv.write, settings: {path: \(mode)-eu.csv}}
          - {id: rest, type: csv.write, settings: {path: \(mode)-rest.csv}}
        edges:
          - {from: src.out, to: sw.in}
          - {from: sw.big, to: big.in}
          - {from: sw.eu, to: eu.in}
          - {from: sw.default, to: rest.in}
        """)
    }

    @Test func firstModeSendsEachRowToTheFirstCaseItMatches() async throws {
        let run = try await route(mode: "first")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let big = "coalesce(amount > 2000, false)", eu = "coalesce(country IN ('DE', 'FR'), false)"
        #expect(GoldenReference.differences(actual: dir.file("first-big.csv"), sql: "SELECT * FROM \(table) WHERE \(big)") == nil)
        #expect(GoldenReference.differences(actual: dir.file("first-eu.csv"), sql: "SELECT * FROM \(table) WHERE \(eu) AND NOT \(big)") == nil)
        #expect(GoldenReference.differences(actual: dir.file("first-rest.csv"), sql: "SELECT * FROM \(table) WHERE NOT \(eu) AND NOT \(big)") == nil)
    }

    @Test func allModeSendsEachRowToEveryCaseItMatches() async throws {
        let run = try await route(mode: "all")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let big = "coalesce(amount > 2000, false)", eu = "coalesce(country IN ('DE', 'FR'), false)"
        #expect(GoldenReference.differences(actual: dir.file("all-big.csv"), sql: "SELECT * FROM \(table) WHERE \(big)") == nil)
        #expect(GoldenReference.differences(actual: dir.file("all-eu.csv"), sql: "SELECT * FROM \(table) WHERE \(eu)") == nil)
        #expect(GoldenReference.differences(actual: dir.file("all-rest.csv"), sql: "SELECT * FROM \(table) WHERE NOT \(eu) AND NOT \(big)") == nil)
    }

    @Test func portsComeFromTheCasesSetting() async throws {
        do {
            _ = try await harness.run("""
            apiVersion: sluice/v1
            name: unknown-case
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv}}
              - {id: sw, type: switch, settings: {cases: {big: "amount > 2000"}}}
              - {id: out, type: csv.write, settings: {path: x.csv}}
            edges:
              - {from: src.out, to: sw.in}
              - {from: sw.small, to: out.in}
            """)
            Issue.record("an edge from an undeclared case was accepted")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.first?.code == "unknown_port" && errors.errors.first?.expected?.contains("big, default") == true, "\(errors)")
        }
        do {
            _ = try await harness.run("""
            apiVersion: sluice/v1
            name: reserved-case
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv}}
              - {id: sw, type: switch, settings: {cases: {default: "amount > 2000"}}}
            edges:
              - {from: src.out, to: sw.in}
            """)
            Issue.record("a case called default was accepted")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.first?.field == "cases.default", "\(errors)")
        }
        let catalog = NodeCatalog.json([SwitchNode.spec])
        #expect(catalog.contains("\"outputsFromSetting\":\"cases\""), "\(catalog)")
    }

    @Test func aConditionThatFailsRejectsTheRowFromEveryOutput() async throws {
        try dir.write("div.csv", "id,amount,divisor\n1,10,1\n2,20,0\n3,30,3\n")
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: failing
        nodes:
          - {id: src, type: csv.read, settings: {path: div.csv}}
          - {id: sw, type: switch, settings: {mode: all, cases: {small: "amount < 25", ratio: "amount / divisor > 5"}}}
          - {id: small, type: csv.write, settings: {path: small.csv}}
          - {id: ratio, type: csv.write, settings: {path: ratio.csv}}
        edges:
          - {from: src.out, to: sw.in}
          - {from: sw.small, to: small.in}
          - {from: sw.ratio, to: ratio.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("small.csv") == "id,amount,divisor\n1,10,1\n")
        #expect(try dir.read("ratio.csv") == "id,amount,divisor\n1,10,1\n3,30,3\n")
        #expect(run.rejects.map(\.record.code) == ["division_by_zero"])
    }
}

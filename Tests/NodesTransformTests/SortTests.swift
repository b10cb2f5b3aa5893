import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// sort against DuckDB's ORDER BY on the same file: directions, NULLs first and last, unicode, NaN-free floats,
/// stability, and the external merge forced by a tiny memory limit.
@Suite struct SortTests {
    let dir: TemporaryDirectory
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        harness = PipelineHarness(directory: dir)
        var lines = ["id,amount,name,flag"]
        let names = ["Ann", "ann", "Zoë", "Émile", "東京", "", "Bob", "bob", "Čeněk"]
        for i in 1...500 {
            let amount = i % 7 == 0 ? "" : String(format: "%.2f", Double((i * 37) % 101) / 4)
            let name = i % 11 == 0 ? "" : names[i % names.count] + (i % 3 == 0 ? "" : " \(i % 5)")
            lines.append("\(i),\(amount),\(name),\(i % 2 == 0 ? "true" : "false")")
        }
        try dir.write("in.csv", lines.joined(separator: "\n") + "\n")
    }

    func sort(_ settings: String) async throws -> (path: String, messages: [String]) {
        let output = "out-\(UUID().uuidString.prefix(8)).csv"
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: sorted
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: float64, name: string, flag: bool}}}
          - {id: s, type: sort, settings: \(settings)}
          - {id: out, type: csv.write, settings: {path: \(output)}}
        edges:
          - {from: src.out, to: s.in}
          - {from: s.out, to: out.in}
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        return (dir.file(output), run.events.messages)
    }

    var input: String {
        "read_csv('\(dir.file("in.csv"))', header=true, columns={'id': 'BIGINT', 'amount': 'DOUBLE', 'name': 'VARCHAR', 'flag': 'BOOLEAN'})"
    }

    @Test(arguments: ["256MB", "2KB"])
    func ordersLikeDuckDB(memory: String) async throws {
        let cases: [(String, String)] = [
            ("[\"amount DESC\", id]", "amount DESC NULLS FIRST, id ASC"),
            ("[amount, id]", "amount ASC NULLS LAST, id ASC"),
            ("[\"amount ASC NULLS FIRST\", \"id DESC\"]", "amount ASC NULLS FIRST, id DESC"),
            ("[\"name DESC NULLS LAST\", id]", "name DESC NULLS LAST, id ASC"),
            ("[flag, \"amount DESC NULLS LAST\", id]", "flag ASC, amount DESC NULLS LAST, id ASC"),
        ]
        for (keys, orderBy) in cases {
            let (path, messages) = try await sort("{by: \(keys), memoryLimit: \(memory)}")
            #expect(GoldenReference.differences(actual: path, sql: "SELECT * FROM \(input) ORDER BY \(orderBy)", ordered: true) == nil, "\(keys), memory \(memory)")
            if memory == "2KB" { #expect(messages.contains { $0.contains("merging") }, "a 2 KB limit merges runs from disk") }
        }
    }

    @Test(arguments: ["256MB", "2KB"])
    func tiesKeepTheirInputOrder(memory: String) async throws {
        let (path, _) = try await sort("{by: [flag], memoryLimit: \(memory)}")
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        for flag in ["false", "true"] {
            let ids = rows.filter { $0.last.map(String.init) == flag }.compactMap { Int($0[0]) }
            #expect(ids == ids.sorted() && ids.count == 250, "stable for \(flag)")
        }
    }

    @Test func badKeysAreRefusedNamingTheColumn() async throws {
        do {
            _ = try await sort("{by: [\"amount SIDEWAYS\"]}")
            Issue.record("accepted a bad direction")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.first?.field?.hasPrefix("by") == true && errors.errors.first?.message.contains("SIDEWAYS") == true, "\(errors)")
        }
        do {
            _ = try await sort("{by: [nope]}")
            Issue.record("accepted an unknown column")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.first?.code == "unknown_column")
        }
    }
}

import Foundation
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `POST /api/v1/pipelines/{id}/tests`: the tests a pipeline carries run as the caller (runner role and up),
/// against its revision or a draft, inside the workspace, writing nothing.
@Suite(.serialized)
struct PipelineTestRouteTests {
    static let document = """
        apiVersion: sluice/v1
        name: tested
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv}}
          - {id: big, type: filter, settings: {where: "amount > 100"}}
          - {id: save, type: csv.write, settings: {path: big.csv}}
        edges:
          - {from: src.out, to: big.in}
          - {from: big.out, to: save.in}
        tests:
          - name: keeps big orders
            inputs: {src: {rows: [{id: 1, amount: 50}, {id: 2, amount: 150}]}}
            expect: {save: {rows: [{id: 2, amount: 150}]}}
          - name: a wrong expectation
            inputs: {src: {rows: [{id: 1, amount: 500}]}}
            expect: {big: {count: 2}}
          - name: the workspace file
            expect: {big: {every: ["amount > 100"]}}
        """

    @Test func testsRunAsTheCallerAndWriteNothing() async throws {
        let harness = try await ServerHarness.make()
        let workspace = harness.state.configuration.workspace
        try "id,amount\n1,500\n2,20\n".write(toFile: workspace + "/orders.csv", atomically: true, encoding: .utf8)
        try await harness.withLiveServer(workers: 0) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.document)]))
            let pipeline = try #require(created.body["id"]?.stringValue, "\(created.text)")

            let outcome = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/tests", token: root)
            #expect(outcome.status == .ok, "\(outcome.text)")
            #expect(outcome.body["passed"] == .int(2) && outcome.body["failed"] == .int(1), "\(outcome.text)")
            let tests = outcome.body["tests"]?.arrayItems ?? []
            #expect(tests.map { $0["name"]?.stringValue } == ["keeps big orders", "a wrong expectation", "the workspace file"])
            #expect(tests[1]["failures"]?.arrayItems.first?.stringValue == "big: expected 2 row(s), got 1", "\(outcome.text)")
            #expect(!FileManager.default.fileExists(atPath: workspace + "/big.csv"), "tests write nothing")

            // A draft: the editor's unsaved document.
            let draft = Self.document.replacingOccurrences(of: "{big: {count: 2}}", with: "{big: {count: 1}}")
            let drafted = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/tests", token: root, json: .object(["document": .string(draft)]))
            #expect(drafted.body["failed"] == .int(0), "\(drafted.text)")

            // Not shared: 404; a viewer: 403; a runner may.
            #expect(try await client.call(.post, "/api/v1/pipelines/\(pipeline)/tests", token: mia).status == .notFound)
            _ = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root, json: .object(["role": .string("viewer")]))
            #expect(try await client.call(.post, "/api/v1/pipelines/\(pipeline)/tests", token: mia).status == .forbidden)
            _ = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root, json: .object(["role": .string("runner")]))
            #expect(try await client.call(.post, "/api/v1/pipelines/\(pipeline)/tests", token: mia).body["passed"] == .int(2))

            // Targets and files outside the workspace are refused; a document without tests is a 422.
            let escaping = Self.document.replacingOccurrences(of: "expect: {big: {every: [\"amount > 100\"]}}",
                                                               with: "inputs: {src: {file: /etc/passwd}}\n    expect: {big: {count: 0}}")
                + "\n  - {name: writes, targets: {save: {path: other.csv}}, expect: {save: {count: 0}}}\n"
            let refused = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/tests", token: root, json: .object(["document": .string(escaping)]))
            let failures = refused.body["tests"]?.arrayItems.map { $0["failures"]?.text ?? "" } ?? []
            #expect(failures.count == 4 && failures[2].contains("outside") && failures[3].contains("targets write for real"), "\(refused.text)")
            let untested = Self.document.components(separatedBy: "tests:\n").first!
            let none = try await client.call(.post, "/api/v1/pipelines/\(pipeline)/tests", token: root, json: .object(["document": .string(untested)]))
            #expect(none.status == .badRequest && none.text.contains("the pipeline has no tests"), "\(none.text)")
        }
        await harness.close()
    }
}

import Foundation
@testable import Server
import SluiceTestSupport
import Testing

/// `POST /api/v1/pipelines/parse` keeps every mapping's keys in document order: the editor reads documents
/// through it, and a switch's cases, a compute's columns and a row's columns mean their order.
@Suite(.serialized)
struct ParseRouteTests {
    @Test func mappingsKeepTheirOrder() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withLiveServer(workers: 0) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let document = """
                apiVersion: sluice/v1
                name: ordered
                nodes:
                  - {id: route, type: switch, settings: {cases: {zebra: "a > 1", apple: "a > 0", mango: "true"}}}
                  - {id: src, type: rows, settings: {rows: [{z: 1, b: 2, a: 3}]}}
                edges: []
                """
            let parsed = try await client.call(.post, "/api/v1/pipelines/parse", token: root, json: .object(["document": .string(document)]))
            #expect(parsed.status == .ok, "\(parsed.text)")
            #expect(parsed.text.contains(#"{"zebra":"a > 1","apple":"a > 0","mango":"true"}"#), "\(parsed.text)")
            #expect(parsed.text.contains(#"[{"z":1,"b":2,"a":3}]"#), "\(parsed.text)")
            #expect(parsed.body["document"]?["name"] == .string("ordered"))
        }
        await harness.close()
    }
}

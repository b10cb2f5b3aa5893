import Foundation
import HTTPTypes
import NIOCore
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `/api/v1/files` over real HTTP: an upload streamed to the workspace that a pipeline then reads, the member's
/// own folder enforced, traversal refused, the size limit enforced without leaving anything behind, list and delete.
@Suite struct FileUploadTests {
    func upload(_ client: ServerHarness.Client, _ path: String, _ bytes: [UInt8], token: String) async throws -> (status: HTTPResponse.Status, body: JSONValue) {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        headers[.contentType] = "application/octet-stream"
        let encoded = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/._-"))) ?? path
        return try await client.client.execute(uri: "/api/v1/files?path=\(encoded)", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            (response.status, JSONValue.parse(String(buffer: response.body)) ?? .null)
        }
    }

    @Test func uploadsLandInTheCallersFolderAndPipelinesReadThem() async throws {
        let harness = try await ServerHarness.make { $0.maximumUploadBytes = 1 << 20 }
        defer { Task { await harness.close() } }
        let workspace = harness.state.configuration.workspace
        try await harness.withLiveServer(workers: 0) { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let csv = Array("id,amount\n1,2.5\n2,3.5\n".utf8)
            let stored = try await upload(client, "uploads/mia/orders/jan.csv", csv, token: mia)
            #expect(stored.status == .created && stored.body["size"] == .int(Int64(csv.count)), "\(stored.body)")
            #expect(FileManager.default.contents(atPath: workspace + "/uploads/mia/orders/jan.csv") == Data(csv))

            let preview = try await client.call(.post, "/api/v1/pipelines/preview", token: mia, json: .object([
                "document": .string(WorkspaceIsolationTests.csvPipeline("uploads/mia/orders/jan.csv").replacingOccurrences(of: ", header: false", with: "")),
                "node": .string("src")]))
            #expect(preview.status == .ok && preview.text.contains("3.5"), "\(preview.text)")

            // A member writes only in their own folder; an admin anywhere under uploads/.
            #expect(try await upload(client, "uploads/root/evil.csv", csv, token: mia).status == .forbidden)
            #expect(try await upload(client, "uploads/mia/x.csv", csv, token: root).status == .created)
            for bad in ["uploads/mia/../root/x.csv", "../sluice.db", "/etc/passwd", "uploads/mia/.hidden", "uploads/mia//x.csv", "uploads/mia", "sluice.db", "uploads/mia/orders"] {
                let refused = try await upload(client, bad, csv, token: bad == "uploads/mia/orders" ? mia : root)
                #expect([.badRequest, .forbidden, .unprocessableContent].contains(refused.status), "\(bad): \(refused.status) \(refused.body)")
            }
            #expect(!FileManager.default.fileExists(atPath: workspace + "/uploads/root/x.csv"))

            // Past the limit: 413, and neither the file nor a temporary is left.
            let big = [UInt8](repeating: UInt8(ascii: "x"), count: (1 << 20) + 10)
            let tooBig = try await upload(client, "uploads/mia/big.csv", big, token: mia)
            #expect(tooBig.status == .contentTooLarge, "\(tooBig.body)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: workspace + "/uploads/mia")
            #expect(Set(leftovers) == ["orders", "x.csv"], "\(leftovers)")

            let listed = try await client.call(.get, "/api/v1/files?prefix=uploads/mia/", token: mia)
            #expect(listed.body["home"] == .string("uploads/mia/"))
            #expect(listed.body["files"]?.arrayValue?.compactMap { $0["path"]?.stringValue } == ["uploads/mia/orders/jan.csv", "uploads/mia/x.csv"], "\(listed.text)")

            #expect(try await client.call(.delete, "/api/v1/files?path=uploads/mia/x.csv", token: mia).status == .noContent)
            #expect(try await client.call(.delete, "/api/v1/files?path=uploads/mia/x.csv", token: mia).status == .notFound)
            let otherUpload = try await upload(client, "uploads/root/mine.csv", csv, token: root)
            #expect(otherUpload.status == .created)
            #expect(try await client.call(.delete, "/api/v1/files?path=uploads/root/mine.csv", token: mia).status == .forbidden)
        }
    }
}

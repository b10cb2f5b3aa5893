import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// A member (no admin rights) tries to reach files and databases that are not theirs through preview,
/// validate and runs; each attempt is refused with `path_outside_workspace`, naming node and field, before
/// any data moves, and the server keeps serving.
@Suite struct WorkspaceIsolationTests {
    static func csvPipeline(_ path: String, output: String = "out.csv") -> String {
        """
        apiVersion: sluice/v1
        name: probe
        nodes:
          - {id: src, type: csv.read, settings: {path: "\(path)", header: false}}
          - {id: out, type: csv.write, settings: {path: "\(output)"}}
        edges:
          - {from: src.out, to: out.in}
        """
    }

    static func sqlitePipeline(connection: String) -> String {
        """
        apiVersion: sluice/v1
        name: probe-db
        nodes:
          - {id: src, type: sqlite.read, settings: {connection: \(connection), query: "SELECT * FROM store_settings"}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: out.in}
        """
    }

    @Test func filePathsOutsideTheWorkspaceAreRefusedInPreviewAndValidate() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        let workspace = harness.state.configuration.workspace
        try "a,b\n1,2\n".write(toFile: workspace + "/in.csv", atomically: true, encoding: .utf8)
        // A symbolic link inside the workspace that leads out of it.
        try FileManager.default.createSymbolicLink(atPath: workspace + "/etc-link", withDestinationPath: "/etc")
        try await harness.withClient { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let escapes = ["/etc/passwd", "../sluice.db", "sub/../../sluice.db", "etc-link/passwd", "etc-link/*", "../*.db", harness.directory.path + "/sluice.db"]
            for path in escapes {
                let preview = try await client.call(.post, "/api/v1/pipelines/preview", token: mia,
                                                    json: .object(["document": .string(Self.csvPipeline(path)), "node": .string("src")]))
                #expect(preview.status == .unprocessableContent, "\(path): \(preview.text)")
                #expect(preview.body["error"]?["code"] == .string("path_outside_workspace"), "\(path): \(preview.text)")
                #expect(preview.body["error"]?["node"] == .string("src") && preview.body["error"]?["field"] == .string("path"), "\(path): \(preview.text)")
                #expect(!preview.text.contains("root:x:0:0"), "\(path) leaked /etc/passwd")
                let validate = try await client.call(.post, "/api/v1/pipelines/validate", token: mia, json: .object(["document": .string(Self.csvPipeline(path))]))
                #expect(validate.body["valid"] == .bool(false) && validate.text.contains("path_outside_workspace"), "\(path): \(validate.text)")
            }
            // Writes too: an absolute output path is refused at plan time.
            let write = try await client.call(.post, "/api/v1/pipelines/validate", token: mia,
                                              json: .object(["document": .string(Self.csvPipeline("in.csv", output: "/tmp/sluice-escape.csv"))]))
            #expect(write.text.contains("path_outside_workspace") && write.text.contains("\"out\""), "\(write.text)")
            // Percent-encoding is not decoded: it names a file inside the workspace (which does not exist).
            let encoded = try await client.call(.post, "/api/v1/pipelines/validate", token: mia, json: .object(["document": .string(Self.csvPipeline("%2e%2e/sluice.db"))]))
            #expect(!encoded.text.contains("path_outside_workspace") && encoded.body["valid"] == .bool(false), "\(encoded.text)")
            // Paths inside the workspace still work.
            let inside = try await client.call(.post, "/api/v1/pipelines/preview", token: mia,
                                               json: .object(["document": .string(Self.csvPipeline("./in.csv")), "node": .string("src")]))
            #expect(inside.status == .ok && inside.text.contains("\"1\""), "\(inside.text)")
        }
    }

    @Test func aSQLiteConnectionCannotOpenTheStoreOrLeaveTheWorkspace() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let store = harness.directory.path + "/sluice.db"
            for (name, path) in [("store", store), ("relative", "../sluice.db"), ("elsewhere", "/tmp/sluice-other.db")] {
                let created = try await client.call(.post, "/api/v1/connections", token: mia, json: .object([
                    "name": .string(name), "type": .string("sqlite"), "settings": .object(["path": .string(path)]),
                ]))
                #expect(created.status == .created, "\(created.text)")
                let preview = try await client.call(.post, "/api/v1/pipelines/preview", token: mia,
                                                    json: .object(["document": .string(Self.sqlitePipeline(connection: name)), "node": .string("src")]))
                #expect(preview.status == .unprocessableContent && preview.body["error"]?["code"] == .string("path_outside_workspace"), "\(name): \(preview.text)")
                #expect(!preview.text.contains("jwt"), "\(name): \(preview.text)")
                let id = try #require(created.body["id"]?.stringValue)
                let discover = try await client.call(.get, "/api/v1/connections/\(id)/discover", token: mia)
                #expect(discover.status == .unprocessableContent && discover.body["error"]?["code"] == .string("path_outside_workspace"), "\(name): \(discover.text)")
            }
        }
    }

    @Test func aWorkspaceRootThatHoldsTheStoreIsRefusedAtStart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration(dataDirectory: directory.path, port: 0, workers: 0)
        configuration.filesRoots = [directory.path]
        await #expect(throws: ServerConfigurationError.self) { _ = try await ServerState.open(configuration) }
    }

    @Test func hostileDocumentsGetAClearErrorAndTheServerKeepsServing() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let deep = String(repeating: "(", count: 20_000) + "1" + String(repeating: ")", count: 20_000)
            let filter = """
            apiVersion: sluice/v1
            name: deep
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv}}
              - {id: f, type: filter, settings: {where: "\(deep)"}}
            edges:
              - {from: src.out, to: f.in}
            """
            let validate = try await client.call(.post, "/api/v1/pipelines/validate", token: mia, json: .object(["document": .string(filter)]))
            #expect(validate.status == .ok && validate.text.contains("expression_too_deep"), "\(validate.text.prefix(400))")
            let saved = try await client.call(.post, "/api/v1/pipelines", token: mia, json: .object(["document": .string(filter)]))
            #expect(saved.status.code < 500, "\(saved.text.prefix(400))")

            var bomb = "apiVersion: sluice/v1\nname: bomb\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            for level in 1...9 { bomb += "x\(level): &x\(level) [" + Array(repeating: "*x\(level - 1)", count: 9).joined(separator: ", ") + "]\n" }
            let parsed = try await client.call(.post, "/api/v1/pipelines/parse", token: mia, json: .object(["document": .string(bomb)]))
            #expect(parsed.status == .unprocessableContent && parsed.body["error"]?["code"] == .string("yaml_alias"), "\(parsed.text.prefix(400))")

            let nested = try await client.call(.post, "/api/v1/pipelines/parse", token: mia,
                                               json: .object(["document": .string(String(repeating: "[", count: 50_000))]))
            #expect(nested.status == .unprocessableContent && nested.body["error"]?["code"] == .string("document_too_deep"), "\(nested.text.prefix(400))")

            // Over the body limit, without signing in: 413, not 500.
            let huge = String(repeating: "x", count: 17 * 1024 * 1024)
            let login = try await client.call(.post, "/api/v1/auth/login", raw: "{\"username\":\"\(huge)\",\"password\":\"p\"}")
            #expect(login.status == .contentTooLarge && login.body["error"]?["code"] == .string("payload_too_large"), "\(login.status)")

            // JSON text with a surrogate-pair escape is read as JSON reads it.
            let rocket = #"{"apiVersion": "sluice/v1", "name": "rocket \ud83d\ude80", "nodes": [{"id": "src", "type": "csv.read", "settings": {"path": "in.csv"}}], "edges": []}"#
            let created = try await client.call(.post, "/api/v1/pipelines", token: mia, json: .object(["document": .string(rocket)]))
            #expect(created.status == .created && created.body["name"] == .string("rocket 🚀"), "\(created.text)")

            let health = try await client.call(.get, "/healthz")
            #expect(health.status == .ok)
        }
    }

    @Test func runsAndTriggersOutsideTheWorkspaceAreRefusedAndAudited() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withLiveServer(workers: 1) { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let saved = try await client.call(.post, "/api/v1/pipelines", token: mia, json: .object(["document": .string(Self.csvPipeline("/etc/passwd"))]))
            let pipeline = try #require(saved.body["id"]?.stringValue, "\(saved.text)")
            let run = try #require(try await client.call(.post, "/api/v1/pipelines/\(pipeline)/runs", token: mia).body["id"]?.stringValue)
            let finished = try await client.finishedRun(run, token: mia)
            #expect(finished["status"] == .string("failed") && finished["error"]?.stringValue?.contains("outside the workspace") == true, "\(finished)")

            for (directory, expected) in [("/etc", HTTPResponse.Status.unprocessableContent), ("../..", .unprocessableContent), ("incoming", .created)] {
                let trigger = try await client.call(.post, "/api/v1/triggers", token: mia, json: .object([
                    "name": .string("files-\(UUID().uuidString.prefix(6))"), "kind": .string("file"),
                    "settings": .object(["directory": .string(directory)]),
                    "pipelines": .array([.object(["pipeline_id": .string(pipeline)])]),
                ]))
                #expect(trigger.status == expected, "\(directory): \(trigger.text)")
                if expected != .created { #expect(trigger.body["error"]?["code"] == .string("path_outside_workspace") && trigger.body["error"]?["field"] == .string("settings.directory")) }
            }
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let audit = try await client.call(.get, "/api/v1/audit", token: root).text
            #expect(audit.contains("run \(run)") && audit.contains("path_outside_workspace: src.path"), "\(audit.prefix(800))")
            #expect(audit.contains("path_outside_workspace: settings.directory"), "\(audit.prefix(800))")
        }
    }
}

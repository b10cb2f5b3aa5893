import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

@Suite("Connections, vault, pipelines, runs")
struct ResourceTests {
    static let secret = "pg-secret-Zq81!"

    @Test
    func connectionSecretsAreSealedAndNeverReturned() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withClient { client in
            let (admin, _) = try await client.login("root", ServerHarness.adminPassword)
            let body = JSONValue.object(["name": .string("warehouse"), "type": .string("postgres"),
                                         "settings": .object(["host": .string("127.0.0.1"), "port": .int(Int64(try PostgresTestServer.port)), "database": .string("postgres"),
                                                              "user": .string("postgres"), "sslmode": .string("disable")]),
                                         "secrets": .object(["password": .string(Self.secret)])])
            let created = try await client.call(.post, "/api/v1/connections", token: admin, json: body)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.body["secrets_set"] == .array([.string("password")]))
            let id = try #require(created.body["id"]?.stringValue)
            // Secrets go in 'secrets'; a password in settings is refused and names the field.
            var misplaced = body
            if case var .object(o) = body { o["settings"] = .object(["host": .string("h"), "database": .string("d"), "user": .string("u"), "password": .string("x")]); o["name"] = .string("other"); misplaced = .object(o) }
            let refused = try await client.call(.post, "/api/v1/connections", token: admin, json: misplaced)
            #expect(refused.status == .badRequest && refused.body["error"]?["field"] == .string("settings.password"))
            let missing = try await client.call(.post, "/api/v1/connections", token: admin,
                                                json: .object(["name": .string("bad"), "type": .string("postgres"), "settings": .object(["host": .string("h")])]))
            #expect(missing.status == .unprocessableContent && missing.body["error"]?["field"] != nil, "\(missing.text)")

            let tested = try await client.call(.post, "/api/v1/connections/\(id)/test", token: admin)
            #expect(tested.body["ok"] == .bool(true), "\(tested.text)")
            let discovered = try await client.call(.get, "/api/v1/connections/\(id)/discover", token: admin)
            #expect(discovered.status == .ok && discovered.body["tables"] != nil)
            // Updating without secrets keeps the stored one.
            var renamed = body
            if case var .object(o) = body { o.removeValue(forKey: "secrets"); renamed = .object(o) }
            #expect(try await client.call(.put, "/api/v1/connections/\(id)", token: admin, json: renamed).body["secrets_set"] == .array([.string("password")]))
            #expect(try await client.call(.post, "/api/v1/connections/\(id)/test", token: admin).body["ok"] == .bool(true))

            // A member sees someone else's connection only once it is shared with them, and then uses but does not change it.
            let (member, _) = try await client.login("mia", ServerHarness.memberPassword)
            #expect(try await client.call(.get, "/api/v1/connections/\(id)", token: member).status == .notFound)
            #expect(try await client.call(.put, "/api/v1/connections/\(id)/shares/\(harness.member.id)", token: admin, json: .object(["role": .string("user")])).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/connections/\(id)", token: member).body["role"] == .string("user"))
            #expect(try await client.call(.delete, "/api/v1/connections/\(id)", token: member).status == .forbidden)

            // Locked vault: using secrets fails with "vault is locked", never a decryption error.
            #expect(try await client.call(.post, "/api/v1/vault/lock", token: admin).body["status"] == .string("locked"))
            let locked = try await client.call(.post, "/api/v1/connections/\(id)/test", token: admin)
            #expect(locked.status == .serviceUnavailable && locked.body["error"]?["code"] == .string("vault_locked"))
            let wrong = try await client.call(.post, "/api/v1/vault/unlock", token: admin, json: .object(["password": .string("not the password")]))
            #expect(wrong.status == .forbidden)
            #expect(try await client.call(.post, "/api/v1/vault/unlock", token: admin, json: .object(["password": .string(ServerHarness.masterPassword)])).status == .ok)
            #expect(try await client.call(.post, "/api/v1/vault/rotate", token: admin).body["resealed"] == .int(1))
            #expect(try await client.call(.post, "/api/v1/connections/\(id)/test", token: admin).body["ok"] == .bool(true))
        }
        #expect(harness.transcript.all.allSatisfy { !$0.contains(Self.secret) }, "a response contained the secret")
        let audit = try await harness.state.store.auditLog(limit: 100).map(\.action)
        #expect(audit.contains("vault_unlock") && audit.contains("vault_unlock_failed") && audit.contains("vault_rotate") && audit.contains("connection_create"))
        #expect(try await harness.state.store.auditLog(limit: 100).allSatisfy { !($0.detail ?? "").contains(Self.secret) })
        await harness.close()
    }

    @Test
    func pipelineRevisionsConflictsDiffRestoreAndValidation() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withClient { client in
            let (token, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: token, json: .object(["document": .string(fileCopyPipeline()), "message": .string("first")]))
            #expect(created.status == .created && created.body["role"] == .string("owner"))
            let id = try #require(created.body["id"]?.stringValue)
            let v2 = fileCopyPipeline(output: "copy.csv")
            let saved = try await client.call(.put, "/api/v1/pipelines/\(id)", token: token, json: .object(["document": .string(v2), "base_revision": .int(1), "message": .string("rename output")]))
            #expect(saved.body["current_revision"] == .int(2))
            let stale = try await client.call(.put, "/api/v1/pipelines/\(id)", token: token, json: .object(["document": .string(v2), "base_revision": .int(1)]))
            #expect(stale.status == .conflict && stale.body["error"]?["current_revision"] == .int(2))
            let diff = try await client.call(.get, "/api/v1/pipelines/\(id)/diff?from=1&to=2", token: token)
            #expect(diff.body["nodes_changed"]?.arrayItems.first?["settings"]?.arrayItems.first?["path"] == .string("path"), "\(diff.text)")
            let restored = try await client.call(.post, "/api/v1/pipelines/\(id)/revisions/1/restore", token: token)
            #expect(restored.body["current_revision"] == .int(3))
            let revisions = try await client.call(.get, "/api/v1/pipelines/\(id)/revisions", token: token)
            #expect(revisions.body.arrayItems.compactMap { $0["message"]?.stringValue } == ["restored revision 1", "rename output", "first"])

            let broken = fileCopyPipeline().replacingOccurrences(of: "path: in.csv", with: "path: in.csv, delimeter: ';'")
            let validation = try await client.call(.post, "/api/v1/pipelines/validate", token: token, json: .object(["document": .string(broken)]))
            let problem = try #require(validation.body["problems"]?.arrayItems.first)
            #expect(validation.body["valid"] == .bool(false) && problem["node"] == .string("src") && problem["field"] == .string("delimeter") && problem["line"] == .int(4), "\(validation.text)")
            // A valid document comes with every node's output columns (the editor's column pickers).
            try "id,amount\n1,10\n".write(toFile: harness.state.configuration.workspace + "/in.csv", atomically: true, encoding: .utf8)
            let valid = try await client.call(.post, "/api/v1/pipelines/validate", token: token, json: .object(["document": .string(fileCopyPipeline())]))
            #expect(valid.body["valid"] == .bool(true) && valid.body["schemas"]?["src"]?["out"]?.arrayItems.compactMap({ $0["name"]?.stringValue }) == ["id", "amount"], "\(valid.text)")
            let unparsable = try await client.call(.post, "/api/v1/pipelines", token: token, json: .object(["document": .string("nodes: [")]))
            #expect(unparsable.status == .unprocessableContent && unparsable.body["error"]?["problems"] != nil)
        }
        await harness.close()
    }

    @Test
    func runsExecuteOnEmbeddedWorkersWithCountersLogsAndRejects() async throws {
        let harness = try await ServerHarness.make()
        try "id,amount\n1,10\n2,20\n3,oops\n".write(toFile: harness.state.configuration.workspace + "/in.csv", atomically: true, encoding: .utf8)
        let document = """
            apiVersion: sluice/v1
            name: typed
            nodes:
              - {id: src, type: csv.read, settings: {path: in.csv, schema: {id: int64, amount: int64}}}
              - {id: out, type: csv.write, settings: {path: out.csv}}
            edges:
              - {from: src.out, to: out.in}
            """
        try await harness.withLiveServer(workers: 2) { client in
            let (token, _) = try await client.login("root", ServerHarness.adminPassword)
            let pipeline = try await client.call(.post, "/api/v1/pipelines", token: token, json: .object(["document": .string(document)]))
            let id = try #require(pipeline.body["id"]?.stringValue, "\(pipeline.text)")
            let started = try await client.call(.post, "/api/v1/pipelines/\(id)/runs", token: token, json: .object([:]))
            #expect(started.status == .created && started.body["status"] == .string("queued"))
            let runID = try #require(started.body["id"]?.stringValue)
            // Follow the logs until the run ends (the server waits for new lines; no sleeping here).
            var after: Int64 = 0, finished = false, messages: [String] = []
            for _ in 0..<40 where !finished {
                let page = try await client.call(.get, "/api/v1/runs/\(runID)/logs?after=\(after)&wait=5", token: token)
                finished = page.body["finished"] == .bool(true)
                if case let .int(next)? = page.body["next"] { after = next }
                messages += page.body["lines"]?.arrayItems.compactMap { $0["message"]?.stringValue } ?? []
            }
            #expect(finished)
            let run = try await client.call(.get, "/api/v1/runs/\(runID)", token: token)
            #expect(run.body["status"] == .string("succeeded"), "\(run.text)")
            #expect(run.body["rejected"] == .int(1))
            let src = run.body["nodes"]?.arrayItems.first { $0["node"] == .string("src") }
            #expect(src?["records_out"] == .int(2) && src?["rejected"] == .int(1))
            #expect(messages.contains("committed"))
            let rejects = try await client.call(.get, "/api/v1/runs/\(runID)/rejects", token: token)
            #expect(rejects.text.contains("oops") && rejects.text.split(separator: "\n").count == 1)
            let csv = try await client.call(.get, "/api/v1/runs/\(runID)/rejects?format=csv", token: token)
            #expect(csv.text.hasPrefix("run_id,node,code,message"))
            let listed = try await client.call(.get, "/api/v1/runs?pipeline=\(id)&status=succeeded", token: token)
            #expect(listed.body.arrayItems.count == 1)
            // Cancelling a finished run changes nothing.
            #expect(try await client.call(.post, "/api/v1/runs/\(runID)/cancel", token: token).body["status"] == .string("succeeded"))
        }
        #expect(try String(contentsOfFile: harness.state.configuration.workspace + "/out.csv", encoding: .utf8) == "id,amount\n1,10\n2,20\n")
        await harness.close()
    }

    @Test
    func openAPIDocumentDescribesEveryRoute() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withClient { client in
            let reply = try await client.call(.get, "/api/v1/openapi.json")
            #expect(reply.body["openapi"] == .string("3.1.0"))
            guard case let .object(paths)? = reply.body["paths"] else { Issue.record("no paths"); return }
            let documented = Set(paths.flatMap { path, item -> [String] in
                guard case let .object(operations) = item else { return [] }
                return operations.keys.map { "\($0.uppercased()) \(path)" }
            })
            let routed = Set(APIRouter.endpoints().map { "\($0.method.rawValue) \($0.path)" })
            #expect(documented == routed)
            #expect(routed.count == APIRouter.endpoints().count, "two endpoints share a method and path")
            // Every $ref resolves.
            let refs = reply.text.matches(of: /"\$ref":"#\/components\/schemas\/(\w+)"/).map { String($0.1) }
            for ref in Set(refs) { #expect(reply.body["components"]?["schemas"]?[ref] != nil, "dangling $ref \(ref)") }
            let unknown = try await client.call(.get, "/api/v1/nope")
            #expect(unknown.status == .notFound && unknown.body["error"]?["code"] == .string("no_route"))
            #expect(try await client.call(.get, "/healthz").body["status"] == .string("ok"))
            #expect(try await client.call(.get, "/metrics").text.contains("sluice_http_requests_total"))
        }
        await harness.close()
    }
}

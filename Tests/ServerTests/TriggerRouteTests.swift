import Crypto
import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// `/api/v1/triggers` and `POST /hooks/{id}`: webhooks with tokens and HMAC signatures, fire now, history,
/// access by pipeline role, and triggers declared in a pipeline document.
@Suite(.serialized)
struct TriggerRouteTests {
    static let pipeline = """
        apiVersion: sluice/v1
        name: orders
        parameters:
          order: {type: string, default: none}
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: out, type: csv.write, settings: {path: "out-${order}.csv"}}
        edges:
          - {from: src.out, to: out.in}
        """

    func webhook(_ client: ServerHarness.Client, token: String, pipelineID: String, auth: String = "token", rule: String? = nil, limit: Int? = nil) async throws -> (id: String, secret: String) {
        var settings: [String: JSONValue] = ["auth": .string(auth)]
        if let limit { settings["maxBodyBytes"] = .int(Int64(limit)) }
        var body: [String: JSONValue] = [
            "name": .string("hook-\(auth)-\(UUID().uuidString.prefix(6))"), "kind": .string("webhook"), "settings": .object(settings), "overlap": .string("queue"),
            "pipelines": .array([.object(["pipeline_id": .string(pipelineID), "parameters": .object(["order": .string("${event.order.id}")])])]),
        ]
        if let rule { body["rule"] = .string(rule) }
        let created = try await client.call(.post, "/api/v1/triggers", token: token, json: .object(body))
        #expect(created.status == .created, "\(created.text)")
        return (try #require(created.body["id"]?.stringValue), try #require(created.body["secret"]?.stringValue))
    }

    static func sign(_ body: String, secret: String, timestamp: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    @Test
    func webhookTokensAuthenticateAndTheBodyBecomesRunParameters() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.pipeline)])).body["id"]?.stringValue)
            let (id, secret) = try await webhook(client, token: root, pipelineID: pipeline, limit: 1000)
            let body = #"{"order": {"id": "A-17"}, "total": 250}"#

            let valid = try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["Authorization": "Bearer \(secret)"])
            #expect(valid.status == .accepted, "\(valid.text)")
            let runID = try #require(valid.body["runs"].flatMap { if case let .array(a) = $0 { a.first?.stringValue } else { nil } }, "\(valid.text)")
            let run = try await client.call(.get, "/api/v1/runs/\(runID)", token: root)
            #expect(run.body["parameters"]?["order"] == .string("A-17"), "\(run.text)")
            #expect(try await harness.state.store.run(id: runID)?.triggerID == id)

            let alternative = try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["X-Sluice-Token": secret])
            #expect(alternative.status == .accepted, "\(alternative.text)")
            let wrong = try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["Authorization": "Bearer slw_wrong"])
            #expect(wrong.status == .unauthorized && wrong.body["error"]?["code"] == .string("unauthenticated"), "\(wrong.text)")
            let missing = try await client.call(.post, "/hooks/\(id)", raw: body)
            #expect(missing.status == .unauthorized)
            let oversized = try await client.call(.post, "/hooks/\(id)", raw: "{\"pad\": \"" + String(repeating: "x", count: 2000) + "\"}", headers: ["Authorization": "Bearer \(secret)"])
            #expect(oversized.status == .contentTooLarge && oversized.body["error"]?["code"] == .string("body_too_large"), "\(oversized.text)")
            let unknown = try await client.call(.post, "/hooks/no-such-trigger", raw: body, headers: ["Authorization": "Bearer \(secret)"])
            #expect(unknown.status == .notFound)

            // A field the parameter mapping needs is missing: the firing is recorded as failed, no run.
            let incomplete = try await client.call(.post, "/hooks/\(id)", raw: #"{"total": 1}"#, headers: ["Authorization": "Bearer \(secret)"])
            #expect(incomplete.status == .accepted && incomplete.body["outcome"] == .string("failed"), "\(incomplete.text)")
            #expect(incomplete.body["detail"]?.stringValue?.contains("order.id") == true, "\(incomplete.text)")

            // Rotating the secret retires the old one.
            let rotated = try await client.call(.post, "/api/v1/triggers/\(id)/secret", token: root)
            let newSecret = try #require(rotated.body["secret"]?.stringValue)
            #expect(try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["Authorization": "Bearer \(secret)"]).status == .unauthorized)
            #expect(try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["Authorization": "Bearer \(newSecret)"]).status == .accepted)

            // Disabled: refused; history lists every firing, newest first.
            #expect(try await client.call(.post, "/api/v1/triggers/\(id)/disable", token: root).body["enabled"] == .bool(false))
            #expect(try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["Authorization": "Bearer \(newSecret)"]).status == .conflict)
            let history = try await client.call(.get, "/api/v1/triggers/\(id)/history", token: root)
            guard case let .array(firings) = history.body else { Issue.record("\(history.text)"); return }
            #expect(firings.map { $0["outcome"]?.stringValue ?? "" } == ["fired", "failed", "fired", "fired"], "\(history.text)")
            #expect(!harness.transcript.all.dropFirst().contains { $0.contains(secret) && !$0.contains("\"secret\"") })
        }
    }

    @Test
    func signedWebhooksRejectTamperingStaleTimestampsAndReplays() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.state.vault.unlock(password: ServerHarness.masterPassword)
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.pipeline)])).body["id"]?.stringValue)
            let (id, secret) = try await webhook(client, token: root, pipelineID: pipeline, auth: "hmac", rule: "total > 100")
            let now = harness.state.store.now() / 1000
            let body = #"{"order": {"id": "B-2"}, "total": 250}"#
            let headers = ["X-Sluice-Timestamp": String(now), "X-Sluice-Signature": Self.sign(body, secret: secret, timestamp: now)]

            let valid = try await client.call(.post, "/hooks/\(id)", raw: body, headers: headers)
            #expect(valid.status == .accepted && valid.body["outcome"] == .string("fired") && valid.body["rule_result"] == .string("true"), "\(valid.text)")
            let replay = try await client.call(.post, "/hooks/\(id)", raw: body, headers: headers)
            #expect(replay.status == .conflict && replay.body["error"]?["code"] == .string("replayed"), "\(replay.text)")
            let tampered = try await client.call(.post, "/hooks/\(id)", raw: body.replacingOccurrences(of: "250", with: "999"), headers: headers)
            #expect(tampered.status == .unauthorized && tampered.body["error"]?["code"] == .string("bad_signature"), "\(tampered.text)")
            let old = now - 3600
            let stale = try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["X-Sluice-Timestamp": String(old), "X-Sluice-Signature": Self.sign(body, secret: secret, timestamp: old)])
            #expect(stale.status == .unauthorized && stale.body["error"]?["code"] == .string("stale_signature"), "\(stale.text)")
            let bearer = try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["Authorization": "Bearer \(secret)"])
            #expect(bearer.status == .unauthorized, "an HMAC webhook must not accept the secret as a token: \(bearer.text)")

            // The rule filters: a small order fires no run.
            let small = #"{"order": {"id": "B-3"}, "total": 5}"#
            let later = now + 1
            let filtered = try await client.call(.post, "/hooks/\(id)", raw: small, headers: ["X-Sluice-Timestamp": String(later), "X-Sluice-Signature": Self.sign(small, secret: secret, timestamp: later)])
            #expect(filtered.status == .accepted && filtered.body["outcome"] == .string("filtered") && filtered.body["runs"] == .array([]), "\(filtered.text)")

            // The signing secret survives a data-key rotation (it is re-sealed with the connections).
            _ = try await harness.state.vault.rotateDataKey()
            let afterRotation = now + 2
            let again = try await client.call(.post, "/hooks/\(id)", raw: body, headers: ["X-Sluice-Timestamp": String(afterRotation), "X-Sluice-Signature": Self.sign(body, secret: secret, timestamp: afterRotation)])
            #expect(again.status == .accepted, "\(again.text)")
        }
    }

    @Test
    func triggersFollowPipelineRolesAndDocumentsDeclareThem() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let declared = Self.pipeline + """

                triggers:
                  - name: nightly
                    kind: cron
                    settings: {schedule: "0 2 * * *", timezone: Europe/Berlin}
                    parameters: {order: "${event.scheduled_at}"}
                """
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(declared)]))
            #expect(created.status == .created, "\(created.text)")
            let pipeline = try #require(created.body["id"]?.stringValue)
            let listed = try await client.call(.get, "/api/v1/triggers", token: root)
            guard case let .array(triggers) = listed.body, let nightly = triggers.first else { Issue.record("\(listed.text)"); return }
            #expect(nightly["name"] == .string("orders/nightly") && nightly["declared_in"] == .string(pipeline), "\(listed.text)")
            let nightlyID = try #require(nightly["id"]?.stringValue)
            let edit = try await client.call(.put, "/api/v1/triggers/\(nightlyID)", token: root, json: .object(["name": .string("x"), "kind": .string("cron"), "settings": .object(["schedule": .string("@daily")])]))
            #expect(edit.status == .conflict && edit.body["error"]?["code"] == .string("declared_in_document"), "\(edit.text)")

            // A bad trigger in the document: 422 naming the field and line.
            let broken = declared.replacingOccurrences(of: "0 2 * * *", with: "0 25 * * *")
            let refused = try await client.call(.put, "/api/v1/pipelines/\(pipeline)", token: root, json: .object(["document": .string(broken), "base_revision": .int(1)]))
            #expect(refused.status == .unprocessableContent && refused.body["error"]?["field"] == .string("triggers[0].settings.schedule"), "\(refused.text)")
            #expect(refused.body["error"]?["message"]?.stringValue?.contains("hour") == true, "\(refused.text)")
            // Removing the block removes the trigger.
            let saved = try await client.call(.put, "/api/v1/pipelines/\(pipeline)", token: root, json: .object(["document": .string(Self.pipeline), "base_revision": .int(1)]))
            #expect(saved.status == .ok, "\(saved.text)")
            #expect(try await client.call(.get, "/api/v1/triggers", token: root).body == .array([]))

            // Mia sees nothing until the pipeline is shared; as a viewer she cannot fire, as a runner she can, but not edit.
            let (id, _) = try await webhook(client, token: root, pipelineID: pipeline)
            #expect(try await client.call(.get, "/api/v1/triggers", token: mia).body == .array([]))
            #expect(try await client.call(.get, "/api/v1/triggers/\(id)", token: mia).status == .notFound)
            _ = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root, json: .object(["role": .string("viewer")]))
            #expect(try await client.call(.get, "/api/v1/triggers/\(id)", token: mia).status == .ok)
            #expect(try await client.call(.post, "/api/v1/triggers/\(id)/fire", token: mia, json: .object([:])).status == .forbidden)
            _ = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root, json: .object(["role": .string("runner")]))
            let fired = try await client.call(.post, "/api/v1/triggers/\(id)/fire", token: mia, json: .object(["event": .object(["order": .object(["id": .string("manual-1")])])]))
            #expect(fired.status == .created && fired.body["outcome"] == .string("fired"), "\(fired.text)")
            #expect(try await client.call(.post, "/api/v1/triggers/\(id)/disable", token: mia).status == .forbidden)
            #expect(try await client.call(.delete, "/api/v1/triggers/\(id)", token: mia).status == .forbidden)
            // Mia cannot link a trigger to a pipeline she only runs.
            let linking = try await client.call(.post, "/api/v1/triggers", token: mia, json: .object([
                "name": .string("mine"), "kind": .string("interval"), "settings": .object(["every": .string("5m")]),
                "pipelines": .array([.object(["pipeline_id": .string(pipeline)])]),
            ]))
            #expect(linking.status == .forbidden, "\(linking.text)")
            // Definitions are checked with the field named.
            let bad = try await client.call(.post, "/api/v1/triggers", token: root, json: .object([
                "name": .string("bad"), "kind": .string("interval"), "settings": .object(["every": .string("soon")]),
            ]))
            #expect(bad.status == .unprocessableContent && bad.body["error"]?["field"] == .string("settings.every"), "\(bad.text)")
            let badRule = try await client.call(.post, "/api/v1/triggers", token: root, json: .object([
                "name": .string("bad-rule"), "kind": .string("watermark"), "rule": .string("new_rowz > 5"),
                "settings": .object(["connection": .string("x"), "table": .string("t"), "column": .string("c")]),
            ]))
            #expect(badRule.status == .unprocessableContent && badRule.body["error"]?["field"] == .string("rule"), "\(badRule.text)")
            #expect(try await client.call(.delete, "/api/v1/triggers/\(id)", token: root).status == .noContent)
        }
    }

    @Test func aStoredTriggerThatNoLongerValidatesIsFlaggedNeverA500() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.pipeline)])).body["id"]?.stringValue)
            let hook = try await webhook(client, token: root, pipelineID: pipeline)
            // As an older version (or a hand edit) could have left it: a setting this version does not accept.
            try await harness.state.store.transaction { try await $0.execute("UPDATE triggers SET settings = $2 WHERE id = $1", .text(hook.id), .text(#"{"auth": "carrier pigeon"}"#)) }
            let shown = try await client.call(.get, "/api/v1/triggers/\(hook.id)", token: root)
            #expect(shown.status == .ok && shown.body["problem"]?.stringValue?.contains("auth") == true, "\(shown.text)")
            let rotate = try await client.call(.post, "/api/v1/triggers/\(hook.id)/secret", token: root)
            #expect(rotate.status == .unprocessableContent, "\(rotate.status): \(rotate.text)")
            let delivery = try await client.call(.post, "/hooks/\(hook.id)", raw: "{}", headers: ["Authorization": "Bearer \(hook.secret)"])
            #expect(delivery.status.code < 500, "\(delivery.status): \(delivery.text)")
        }
    }

    @Test func theListShowsEachTriggersScheduleNextFiresLastOutcomeAndScheduleWarnings() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let totals = """
                apiVersion: sluice/v1
                name: daily-totals
                nodes:
                  - {id: src, type: csv.read, settings: {path: in.csv}}
                  - {id: totals, type: aggregate, settings: {groupBy: [country], aggregates: {orders: "count(*)"}}}
                  - {id: save, type: sqlite.write, settings: {connection: local, table: totals}}
                edges:
                  - {from: src.out, to: totals.in}
                  - {from: totals.out, to: save.in}
                """
            _ = try await client.call(.post, "/api/v1/connections", token: root, json: .object(["name": .string("local"), "type": .string("sqlite"), "settings": .object(["path": .string("t.db")])]))
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(totals)])).body["id"]?.stringValue)
            let created = try await client.call(.post, "/api/v1/triggers", token: root, json: .object([
                "name": .string("nightly"), "kind": .string("cron"), "settings": .object(["schedule": .string("30 2 * * 1-5"), "timezone": .string("Europe/Berlin")]),
                "pipelines": .array([.object(["pipeline_id": .string(pipeline)])])]))
            #expect(created.status == .created, "\(created.text)")
            let listed = try await client.call(.get, "/api/v1/triggers", token: root)
            let nightly = try #require(listed.body.arrayItems.first { $0["name"] == .string("nightly") }, "\(listed.text)")
            #expect(nightly["schedule"] == .string("at 02:30, Monday to Friday (Europe/Berlin)"), "\(nightly)")
            let fires = (nightly["next_fires"]?.arrayItems ?? []).compactMap { item -> Int64? in if case let .int(value) = item { value } else { nil } }
            #expect(fires.count == 3 && fires == fires.sorted() && fires.allSatisfy { $0 > Int64(Date().timeIntervalSince1970 * 1000) }, "\(fires)")
            #expect(nightly["last_firing"] == nil || nightly["last_firing"] == .null)
            #expect(nightly["warnings"]?.arrayItems.first?.stringValue?.contains("daily-totals: 'totals' (aggregate) feeds 'save', which appends to the table totals") == true, "\(nightly)")

            let id = try #require(nightly["id"]?.stringValue)
            #expect(try await client.call(.post, "/api/v1/triggers/\(id)/fire", token: root, json: .object([:])).status == .created)
            let after = try await client.call(.get, "/api/v1/triggers", token: root)
            let fired = try #require(after.body.arrayItems.first { $0["name"] == .string("nightly") })
            #expect(fired["last_firing"]?["outcome"] == .string("fired"), "\(fired)")
            #expect(["queued", "running", "succeeded", "failed"].contains(fired["last_run_status"]?.stringValue ?? ""), "\(fired)")

            // merge or replace does not repeat totals: no warning.
            let merged = totals.replacingOccurrences(of: "table: totals}", with: "table: totals, mode: replace}")
            let saved = try await client.call(.put, "/api/v1/pipelines/\(pipeline)", token: root, json: .object(["document": .string(merged), "base_revision": .int(1)]))
            #expect(saved.status == .ok, "\(saved.text)")
            let quiet = try await client.call(.get, "/api/v1/triggers", token: root)
            #expect(quiet.body.arrayItems.first { $0["name"] == .string("nightly") }?["warnings"]?.arrayItems.isEmpty == true)
        }
    }
}

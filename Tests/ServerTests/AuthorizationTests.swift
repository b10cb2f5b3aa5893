import Foundation
import HTTPTypes
@testable import Server
import Store
import Testing

/// Every route, with no token, a bad token, an expired token, the wrong role, and a pipeline not shared.
@Suite("Route authorization")
struct AuthorizationTests {
    /// Fills path parameters with real ids so the request reaches the authorization checks.
    static func uri(_ endpoint: Endpoint, ids: [String: String]) -> String {
        var path = endpoint.path
        for name in endpoint.pathParameters {
            let value: String = switch (name, endpoint.path) {
            case ("id", let p) where p.hasPrefix("/api/v1/pipelines"): ids["pipeline"]!
            case ("id", let p) where p.hasPrefix("/api/v1/runs"): ids["run"]!
            case ("id", let p) where p.hasPrefix("/api/v1/connections"): ids["connection"]!
            case ("id", let p) where p.hasPrefix("/api/v1/users"): ids["user"]!
            case ("revision", _): "1"
            case ("user", _): ids["user"]!
            default: "unknown"
            }
            path = path.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return path
    }

    @Test
    func everyProtectedRouteRefusesMissingBadAndExpiredTokens() async throws {
        let harness = try await ServerHarness.make()
        // A token minted two hours ago (same signing key, store clock set back) has expired.
        let past = try await ServerState.open(harness.state.configuration, now: { MetadataStore.systemNow() - 2 * 3600 * 1000 })
        let (_, family) = try await past.store.issueRefreshToken(userID: harness.admin.id, lifetimeMillis: 10 * 24 * 3600 * 1000)
        let expired = try await past.authenticator.accessToken(for: harness.admin, session: family)
        await past.close()
        let ids = try await fixtures(harness)
        try await harness.withClient { client in
            for endpoint in APIRouter.endpoints() where endpoint.access != .anyone {
                let path = Self.uri(endpoint, ids: ids)
                for (label, token) in [("no token", nil), ("garbage token", "not-a-jwt"), ("expired token", expired), ("unknown API token", "sla_nope")] {
                    let reply = try await client.call(endpoint.method, path, token: token, raw: "{}")
                    #expect(reply.status == .unauthorized, "\(endpoint.method) \(endpoint.path) with \(label): \(reply.status)")
                    #expect(reply.body["error"]?["code"] != nil, "\(endpoint.path): no error envelope")
                }
            }
        }
        await harness.close()
    }

    @Test
    func adminRoutesRefuseMembers() async throws {
        let harness = try await ServerHarness.make()
        let ids = try await fixtures(harness)
        try await harness.withClient { client in
            let (token, _) = try await client.login("mia", ServerHarness.memberPassword)
            for endpoint in APIRouter.endpoints() where endpoint.access == .admin {
                let reply = try await client.call(endpoint.method, Self.uri(endpoint, ids: ids), token: token, raw: "{}")
                #expect(reply.status == .forbidden, "\(endpoint.method) \(endpoint.path) as member: \(reply.status) \(reply.text)")
            }
        }
        await harness.close()
    }

    @Test
    func pipelineRoutesNeedASharedPipelineAndTheRightRole() async throws {
        let harness = try await ServerHarness.make()
        let ids = try await fixtures(harness)
        // The state route plans the pipeline, which reads its input file's header.
        try "id\n1\n".write(toFile: harness.state.configuration.workspace + "/in.csv", atomically: true, encoding: .utf8)
        let scoped = APIRouter.endpoints().filter { $0.path.hasPrefix("/api/v1/pipelines/{id}") || $0.path.hasPrefix("/api/v1/runs/{id}") }
        #expect(scoped.count >= 15)
        try await harness.withClient { client in
            let (token, _) = try await client.login("mia", ServerHarness.memberPassword)
            // Not shared: the pipeline and its runs do not exist for her.
            for endpoint in scoped {
                let reply = try await client.call(endpoint.method, Self.uri(endpoint, ids: ids), token: token, raw: "{}")
                #expect(reply.status == .notFound, "\(endpoint.method) \(endpoint.path) unshared: \(reply.status) \(reply.text)")
            }
            // Shared as viewer: reads work, changes are forbidden.
            try await harness.state.store.setShare(pipelineID: ids["pipeline"]!, userID: harness.member.id, role: .viewer)
            for endpoint in scoped where endpoint.method != .get {
                let reply = try await client.call(endpoint.method, Self.uri(endpoint, ids: ids), token: token, raw: "{}")
                #expect(reply.status == .forbidden, "\(endpoint.method) \(endpoint.path) as viewer: \(reply.status) \(reply.text)")
            }
            // (A diff needs two revisions; the fixture run has no samples to read one of.)
            for endpoint in scoped where endpoint.method == .get && !endpoint.path.hasSuffix("/diff") && !endpoint.path.hasSuffix("/samples/{node}/{port}") {
                let reply = try await client.call(endpoint.method, Self.uri(endpoint, ids: ids), token: token)
                #expect(reply.status == .ok, "\(endpoint.method) \(endpoint.path) as viewer: \(reply.status) \(reply.text)")
            }
            // A runner may start and cancel runs but not edit.
            try await harness.state.store.setShare(pipelineID: ids["pipeline"]!, userID: harness.member.id, role: .runner)
            #expect(try await client.call(.post, "/api/v1/pipelines/\(ids["pipeline"]!)/runs", token: token).status == .created)
            #expect(try await client.call(.post, "/api/v1/runs/\(ids["run"]!)/cancel", token: token).status == .ok)
            let save = try await client.call(.put, "/api/v1/pipelines/\(ids["pipeline"]!)", token: token,
                                             json: .object(["document": .string(fileCopyPipeline()), "base_revision": .int(1)]))
            #expect(save.status == .forbidden)
            // Her pipeline list shows only what is shared, with her role.
            let list = try await client.call(.get, "/api/v1/pipelines", token: token)
            #expect(list.body == .array([list.body.arrayItems.first ?? .null]) && list.body.arrayItems.first?["role"] == .string("runner"))
        }
        await harness.close()
    }

    /// A pipeline (owned by root), a run of it, a connection, and the member's user id.
    func fixtures(_ harness: ServerHarness) async throws -> [String: String] {
        let pipeline = try await harness.state.store.createPipeline(name: "copy", document: fileCopyPipeline(), message: "m", author: harness.admin)
        let run = try await RunQueue(store: harness.state.store, bus: LocalEventBus()).enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "root")
        let connection = try await harness.state.store.createConnection(id: MetadataStore.newID(), name: "local", type: "sqlite", settingsJSON: #"{"path":"x.db"}"#,
                                                                         secretFields: [], sealed: nil, createdBy: "root")
        return ["pipeline": pipeline.id, "run": run.id, "connection": connection.id, "user": harness.member.id]
    }
}

extension JSONValue {
    var arrayItems: [JSONValue] { if case let .array(a) = self { a } else { [] } }
}

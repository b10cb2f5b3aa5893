import Foundation
import Store
import Testing

@Suite("Metadata store (SQLite and PostgreSQL)")
struct MetadataStoreTests {
    @Test(arguments: Backend.allCases)
    func migrationsAreIdempotent(_ backend: Backend) async throws {
        let where_ = try location(backend)
        let first = try await MetadataStore.open(where_)
        _ = try await makeUser(first, "ada")
        await first.database.close()
        let second = try await MetadataStore.open(where_)
        #expect(try await second.userCount() == 1)
        await second.database.close()
    }

    @Test(arguments: Backend.allCases)
    func users(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let ada = try await makeUser(store, "ada", role: .admin)
            await #expect(throws: StoreError.self) { _ = try await makeUser(store, "ada") }
            let found = try #require(try await store.credentials(name: "ada"))
            #expect(found.user == ada && found.passwordHash == "hash-of-ada")
            #expect(try await store.activeAdminCount() == 1)
            let updated = try await store.updateUser(id: ada.id, role: .member, disabled: true)
            #expect(updated?.role == .member && updated?.disabled == true)
            #expect(try await store.deleteUser(id: ada.id))
            #expect(try await store.user(id: ada.id) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func refreshTokensRotateAndReuseRevokesTheFamily(_ backend: Backend) async throws {
        let clock = ManualClock()
        try await withStore(backend, clock: clock) { store in
            let ada = try await makeUser(store, "ada")
            let (first, family) = try await store.issueRefreshToken(userID: ada.id, lifetimeMillis: 60_000)
            guard case let .rotated(userID, sameFamily, second) = try await store.rotateRefreshToken(first, lifetimeMillis: 60_000) else {
                Issue.record("first rotation failed"); return
            }
            #expect(userID == ada.id && sameFamily == family && second != first)
            #expect(try await store.isFamilyActive(family))
            // The spent token comes back: the whole family dies, including the live successor.
            #expect(try await store.rotateRefreshToken(first, lifetimeMillis: 60_000) == .reused)
            #expect(try await store.rotateRefreshToken(second, lifetimeMillis: 60_000) == .revoked)
            #expect(try await !store.isFamilyActive(family))
            #expect(try await store.rotateRefreshToken("slr_unknown", lifetimeMillis: 60_000) == .unknown)

            let (third, _) = try await store.issueRefreshToken(userID: ada.id, lifetimeMillis: 1_000)
            clock.advance(millis: 2_000)
            #expect(try await store.rotateRefreshToken(third, lifetimeMillis: 1_000) == .expired)
        }
    }

    @Test(arguments: Backend.allCases)
    func apiTokens(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let ada = try await makeUser(store, "ada")
            let (token, info) = try await store.createAPIToken(userID: ada.id, name: "ci")
            #expect(token.hasPrefix("sla_"))
            #expect(try await store.userForAPIToken(token)?.id == ada.id)
            #expect(try await store.apiTokens(userID: ada.id).map(\.name) == ["ci"])
            #expect(try await store.revokeAPIToken(id: info.id, userID: ada.id))
            #expect(try await store.userForAPIToken(token) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func pipelineRevisionsAndSharing(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let ada = try await makeUser(store, "ada"), bob = try await makeUser(store, "bob"), root = try await makeUser(store, "root", role: .admin)
            let pipeline = try await store.createPipeline(name: "orders", document: "v1", message: "first", author: ada)
            #expect(pipeline.currentRevision == 1)
            let saved = try #require(try await store.savePipeline(id: pipeline.id, name: "orders", document: "v2", message: "second", author: ada, base: 1))
            #expect(saved.currentRevision == 2)
            do {
                _ = try await store.savePipeline(id: pipeline.id, name: "orders", document: "v2b", message: "stale", author: bob, base: 1)
                Issue.record("a stale save was accepted")
            } catch let stale as StaleRevision {
                #expect(stale.current == 2)
            }
            #expect(try await store.revisions(pipelineID: pipeline.id).map(\.document) == ["v2", "v1"])
            #expect(try await store.role(of: ada, on: pipeline.id) == .owner)
            #expect(try await store.role(of: bob, on: pipeline.id) == nil)
            #expect(try await store.role(of: root, on: pipeline.id) == .owner)
            try await store.setShare(pipelineID: pipeline.id, userID: bob.id, role: .runner)
            #expect(try await store.role(of: bob, on: pipeline.id) == .runner)
            #expect(try await store.pipelines(visibleTo: bob).map(\.1) == [.runner])
            try await store.setShare(pipelineID: pipeline.id, userID: bob.id, role: nil)
            #expect(try await store.pipelines(visibleTo: bob).isEmpty)
            #expect(ShareRole.viewer < .runner && ShareRole.editor < .owner)
        }
    }

    @Test(arguments: Backend.allCases)
    func logsRejectsAndAudit(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let run = try await RunQueue(store: store, bus: LocalEventBus()).enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: ada.name)
            try await store.appendLogs(runID: run.id, (1...5).map { (at: Int64($0), level: .info, node: "n", message: "line \($0)") })
            try await store.appendLogs(runID: run.id, [(at: 6, level: .warning, node: nil, message: "line 6")])
            #expect(try await store.logs(runID: run.id, afterSeq: 4, limit: 10).map(\.message) == ["line 5", "line 6"])
            try await store.appendRejects(runID: run.id, [(node: "n", json: #"{"a":1}"#), (node: "n", json: #"{"a":2}"#)])
            #expect(try await store.rejects(runID: run.id, afterSeq: 0, limit: 10).map(\.json) == [#"{"a":1}"#, #"{"a":2}"#])
            try await store.recordNodes(runID: run.id, [RunNodeRecord(node: "n", status: "running", recordsIn: 5)])
            try await store.recordNodes(runID: run.id, [RunNodeRecord(node: "n", status: "succeeded", recordsIn: 9, recordsOut: 8, rejected: 1)])
            #expect(try await store.run(id: run.id)?.nodes == [RunNodeRecord(node: "n", status: "succeeded", recordsIn: 9, recordsOut: 8, rejected: 1)])
            // Nodes come back in the pipeline's order, not by name.
            let other = try await RunQueue(store: store, bus: LocalEventBus()).enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: ada.name)
            try await store.recordNodes(runID: other.id, ["src", "filter", "aggregate", "save"].map { RunNodeRecord(node: $0, status: "succeeded") })
            #expect(try await store.run(id: other.id)?.nodes.map(\.node) == ["src", "filter", "aggregate", "save"])
            try await store.audit(actor: "ada", action: "login", address: "127.0.0.1")
            try await store.audit(actor: nil, action: "login_failed", target: "bob")
            #expect(try await store.auditLog(limit: 10).count == 2)
            #expect(try await store.auditLog(limit: 10, action: "login_failed").map(\.target) == ["bob"])
        }
    }
}

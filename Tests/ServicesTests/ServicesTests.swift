import Foundation
import NodeKit
import Scheduler
import Services
import SluiceTestSupport
import Store
import Testing

/// The application services on a real SQLite store, without HTTP: who may do what, in which order, and what is audited.
@Suite struct ServicesTests {
    /// A fresh store with an admin and a member, and the services over it.
    struct World {
        let store: MetadataStore
        let services: Services
        let admin: Caller
        let member: Caller

        static func make() async throws -> World {
            let directory = try TemporaryDirectory()
            let store = try await MetadataStore.open(.sqlite(path: directory.file("store.db")))
            let queue = RunQueue(store: store, bus: LocalEventBus())
            let services = Services(store: store, vault: Vault(store: store), queue: queue, dispatcher: TriggerDispatcher(queue: queue),
                                    files: .confined(to: [directory.path]), accounts: AccountSettings(bcryptCost: 4))
            let admin = try await store.createUser(name: "ada", role: .admin, passwordHash: "x")
            let member = try await store.createUser(name: "max", role: .member, passwordHash: "x")
            return World(store: store, services: services, admin: Caller(admin, address: "10.0.0.1"), member: Caller(member, address: "10.0.0.2"))
        }

        func close() async { await store.database.close() }
    }

    static let document = """
        apiVersion: sluice/v1
        name: orders
        nodes:
          - {id: a, type: limit@1, settings: {count: 1}}
        """

    @Test func anUnsharedPipelineIsNotFoundAndItsEditIsNeverRead() async throws {
        let world = try await World.make()
        let pipeline = try await world.services.pipelines.create(try PipelineSource(.string(Self.document)), message: nil, by: world.admin)
        var read = false
        await #expect(throws: ServiceError.self) {
            _ = try await world.services.pipelines.save(pipeline.id, by: world.member) {
                read = true
                return PipelineEdit(source: try PipelineSource(.string(Self.document)), message: nil, base: 1)
            }
        }
        #expect(!read, "the edit of a caller without access must not be read (its validation errors would reveal the pipeline)")
        do {
            _ = try await world.services.pipelines.get(pipeline.id, for: world.member)
            Issue.record("a member saw a pipeline not shared with them")
        } catch let error as ServiceError {
            #expect(error.kind == .notFound)
        }
        await world.close()
    }

    @Test func aViewerIsForbiddenToSaveAndAStaleSaveIsAConflictNamingTheCurrentRevision() async throws {
        let world = try await World.make()
        let pipelines = world.services.pipelines
        let pipeline = try await pipelines.create(try PipelineSource(.string(Self.document)), message: nil, by: world.admin)
        _ = try await pipelines.share(pipeline.id, with: world.member.user.id, by: world.admin) { "viewer" }
        do {
            _ = try await pipelines.save(pipeline.id, by: world.member) { PipelineEdit(source: try PipelineSource(.string(Self.document)), message: nil, base: 1) }
            Issue.record("a viewer saved")
        } catch let error as ServiceError {
            #expect(error.kind == .forbidden)
        }
        _ = try await pipelines.save(pipeline.id, by: world.admin) { PipelineEdit(source: try PipelineSource(.string(Self.document)), message: "two", base: 1) }
        do {
            _ = try await pipelines.save(pipeline.id, by: world.admin) { PipelineEdit(source: try PipelineSource(.string(Self.document)), message: "late", base: 1) }
            Issue.record("a stale save was accepted")
        } catch let error as ServiceError {
            #expect(error.kind == .conflict)
            #expect(error.extra["current_revision"] == .int(2))
        }
        await world.close()
    }

    @Test func adminOperationsRefuseMembersWhateverPathCallsThem() async throws {
        let world = try await World.make()
        for attempt in [
            { _ = try await world.services.users.list(by: world.member) },
            { _ = try await world.services.users.create(name: "eve", password: "a long password", role: "admin", by: world.member) },
            { _ = try await world.services.users.auditLog(limit: 10, before: nil, action: nil, by: world.member) },
            { try await world.services.vault.lock(by: world.member) },
        ] as [@Sendable () async throws -> Void] {
            do {
                try await attempt()
                Issue.record("a member did an admin's work")
            } catch let error as ServiceError {
                #expect(error.kind == .forbidden)
            }
        }
        #expect(try await world.store.users().map(\.name).sorted() == ["ada", "max"])
        await world.close()
    }

    @Test func changesAreAuditedWithTheCallerAndTheirAddress() async throws {
        let world = try await World.make()
        let pipeline = try await world.services.pipelines.create(try PipelineSource(.string(Self.document)), message: nil, by: world.admin)
        _ = try await world.services.pipelines.share(pipeline.id, with: world.member.user.id, by: world.admin) { "runner" }
        let run = try await world.services.runs.start(pipeline: pipeline.id, by: world.member) { RunRequest() }
        _ = try await world.services.runs.cancel(run.id, by: world.member)
        let entries = try await world.store.auditLog(limit: 10)
        let share = try #require(entries.first { $0.action == "share" })
        #expect(share.actor == "ada" && share.address == "10.0.0.1" && share.detail == "max: runner")
        let cancel = try #require(entries.first { $0.action == "run_cancel" })
        #expect(cancel.actor == "max" && cancel.address == "10.0.0.2" && cancel.target == run.id)
        #expect(try await world.store.run(id: run.id)?.phase == .cancelled)
        await world.close()
    }

    @Test func aRunWithAnUnknownParameterIsRefusedBeforeItIsQueued() async throws {
        let world = try await World.make()
        let pipeline = try await world.services.pipelines.create(try PipelineSource(.string(Self.document)), message: nil, by: world.admin)
        await #expect(throws: (any Error).self) {
            _ = try await world.services.runs.start(pipeline: pipeline.id, by: world.admin) { RunRequest(parameters: ["typo": "1"]) }
        }
        #expect(try await world.store.runs(RunFilter(pipelineIDs: nil, phase: nil, triggerID: nil, limit: 10, before: nil)).isEmpty)
        await world.close()
    }
}

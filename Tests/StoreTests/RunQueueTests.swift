import Foundation
import Store
import Synchronization
import Testing

@Suite("Run queue (SQLite and PostgreSQL)")
struct RunQueueTests {
    @Test(arguments: Backend.allCases)
    func claimHeartbeatFinish(_ backend: Backend) async throws {
        let clock = ManualClock()
        try await withStore(backend, clock: clock) { store in
            let queue = RunQueue(store: store, bus: LocalEventBus())
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let first = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
            clock.advance(millis: 1)
            let second = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")

            let claimed = try #require(try await queue.claim(workerID: "w1", leaseMillis: 10_000))
            #expect(claimed.id == first.id && claimed.phase == .running && claimed.attempt == 1 && claimed.workerID == "w1")
            #expect(try await queue.claim(workerID: "w2", leaseMillis: 10_000)?.id == second.id)
            #expect(try await queue.claim(workerID: "w3", leaseMillis: 10_000) == nil)

            #expect(try await store.heartbeat(runID: first.id, workerID: "w1", leaseMillis: 10_000) == .renewed(cancelRequested: false))
            #expect(try await store.heartbeat(runID: first.id, workerID: "w2", leaseMillis: 10_000) == .lost)
            // Only the holder can finish; a second finish is refused.
            #expect(try await !queue.finish(runID: first.id, workerID: "w2", phase: .succeeded, error: nil, rejected: 0))
            #expect(try await queue.finish(runID: first.id, workerID: "w1", phase: .succeeded, error: nil, rejected: 3))
            #expect(try await !queue.finish(runID: first.id, workerID: "w1", phase: .failed, error: "late", rejected: 0))
            let done = try #require(try await store.run(id: first.id))
            #expect(done.phase == .succeeded && done.rejected == 3 && done.workerID == nil && done.finishedAt != nil)
            #expect(try await store.runs(RunFilter(phase: .running)).map(\.id) == [second.id])
            #expect(try await store.runs(RunFilter(pipelineIDs: [pipeline.id])).map(\.id) == [second.id, first.id])
        }
    }

    @Test(arguments: Backend.allCases)
    func cancelQueuedAndRunning(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = RunQueue(store: store, bus: LocalEventBus())
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let running = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
            _ = try await queue.claim(workerID: "w1", leaseMillis: 10_000)
            let queued = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
            #expect(try await queue.cancel(runID: queued.id)?.phase == .cancelled)
            let flagged = try #require(try await queue.cancel(runID: running.id))
            #expect(flagged.phase == .running && flagged.cancelRequested)
            #expect(try await store.heartbeat(runID: running.id, workerID: "w1", leaseMillis: 10_000) == .renewed(cancelRequested: true))
            #expect(try await queue.claim(workerID: "w2", leaseMillis: 10_000) == nil)
            #expect(try await queue.cancel(runID: "nope") == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func expiredLeasesAreReclaimedThenFailWhenAttemptsRunOut(_ backend: Backend) async throws {
        let clock = ManualClock()
        try await withStore(backend, clock: clock) { store in
            let queue = RunQueue(store: store, bus: LocalEventBus())
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let run = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada", maxAttempts: 2)
            _ = try await queue.claim(workerID: "dead", leaseMillis: 5_000)
            clock.advance(millis: 4_000)
            #expect(try await queue.reclaimExpiredLeases().isEmpty)
            clock.advance(millis: 2_000)
            #expect(try await queue.reclaimExpiredLeases().map(\.phase) == [.queued])
            // The dead worker wakes up: its lease is gone, so it cannot finish or renew.
            #expect(try await store.heartbeat(runID: run.id, workerID: "dead", leaseMillis: 5_000) == .lost)
            #expect(try await !queue.finish(runID: run.id, workerID: "dead", phase: .succeeded, error: nil, rejected: 0))
            #expect(try await queue.claim(workerID: "w2", leaseMillis: 5_000)?.attempt == 2)
            clock.advance(millis: 6_000)
            #expect(try await queue.reclaimExpiredLeases().map(\.phase) == [.failed])
            #expect(try await store.run(id: run.id)?.error?.contains("lease expired") == true)
        }
    }

    @Test(arguments: Backend.allCases)
    func handBackDoesNotUseAnAttempt(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = RunQueue(store: store, bus: LocalEventBus())
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let run = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada", maxAttempts: 1)
            _ = try await queue.claim(workerID: "w1", leaseMillis: 5_000)
            #expect(try await queue.handBack(runID: run.id, workerID: "w1"))
            let again = try #require(try await queue.claim(workerID: "w2", leaseMillis: 5_000))
            #expect(again.id == run.id && again.attempt == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentClaimersTakeEachRunOnce(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = RunQueue(store: store, bus: LocalEventBus())
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            var queued: Set<String> = []
            for _ in 0..<40 { queued.insert(try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada").id) }
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var mine: [String] = []
                        while let run = try await queue.claim(workerID: "w\(worker)", leaseMillis: 60_000) { mine.append(run.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claims.count == 40)
            #expect(Set(claims) == queued)
        }
    }

    /// Every change of a run's state is announced once, by the queue, after its transaction: what live viewers
    /// and idle workers (woken by `queued`) see.
    @Test(.timeLimit(.minutes(3)), arguments: Backend.allCases)
    func everyTransitionIsAnnouncedWithItsNewPhase(_ backend: Backend) async throws {
        let clock = ManualClock()
        try await withStore(backend, clock: clock) { store in
            let bus = LocalEventBus()
            let updates = bus.subscribe()
            let queue = RunQueue(store: store, bus: bus)
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let first = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada", maxAttempts: 2)
            _ = try await queue.claim(workerID: "w1", leaseMillis: 1_000)
            #expect(try await queue.handBack(runID: first.id, workerID: "w1"))
            _ = try await queue.claim(workerID: "w1", leaseMillis: 1_000)
            clock.advance(millis: 2_000)
            #expect(try await queue.reclaimExpiredLeases().map(\.id) == [first.id])
            _ = try await queue.claim(workerID: "w2", leaseMillis: 1_000)
            #expect(try await queue.finish(runID: first.id, workerID: "w2", phase: .succeeded, error: nil, rejected: 0, nodes: [RunNodeRecord(node: "n", status: "succeeded")]))
            #expect(try await !queue.finish(runID: first.id, workerID: "w2", phase: .failed, error: "late", rejected: 0), "a refused transition announces nothing")
            let second = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
            _ = try await queue.cancel(runID: second.id)
            _ = try await queue.cancel(runID: second.id)
            var seen: [String] = []
            for await update in updates {
                seen.append("\(update.runID == first.id ? "first" : "second") \(update.kind.rawValue) \(update.phase.rawValue)\(update.nodes.map { " nodes:\($0.count)" } ?? "")")
                if seen.count == 9 { break }
            }
            #expect(seen == ["first status queued", "first status running", "first status queued", "first status running", "first status queued",
                             "first status running", "first finished succeeded nodes:1", "second status queued", "second finished cancelled"], "\(seen)")
        }
    }

    /// A trigger firing announces the runs it queues and the runs its overlap policy cancelled, with the firing's transaction.
    @Test(.timeLimit(.minutes(3)), arguments: Backend.allCases)
    func aFiringAnnouncesTheRunsItQueuesAndCancels(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let bus = LocalEventBus()
            let updates = bus.subscribe()
            let queue = RunQueue(store: store, bus: bus)
            let ada = try await makeUser(store, "ada")
            let pipeline = try await store.createPipeline(name: "p", document: "d", message: "m", author: ada)
            let trigger = try await store.createTrigger(TriggerRecord(name: "t", kind: "webhook", settingsJSON: "{}", createdBy: "ada"))
            let earlier = try await queue.enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
            let firing = try #require(try await queue.recordFiring(TriggerFiring(triggerID: trigger.id, at: 1, eventJSON: "{}", ruleResult: "none", outcome: "fired"),
                                                                 runs: [TriggeredRun(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}")],
                                                                 cancelling: [earlier.id], requestedBy: "trigger:t", expectedVersion: nil, newStateJSON: nil))
            var seen: [String] = []
            for await update in updates {
                seen.append("\(update.runID == earlier.id ? "earlier" : update.runID == firing.runIDs.first ? "fired" : "?") \(update.kind.rawValue) \(update.phase.rawValue)")
                if seen.count == 3 { break }
            }
            #expect(seen == ["earlier status queued", "earlier finished cancelled", "fired status queued"])
            #expect(try await store.run(id: earlier.id)?.phase == .cancelled)
        }
    }

    @Test
    func lifecycleTable() {
        #expect(RunLifecycle.transition(from: .queued, on: .claim) == .moveTo(.running))
        #expect(RunLifecycle.transition(from: .queued, on: .cancel) == .moveTo(.cancelled))
        #expect(RunLifecycle.transition(from: .running, on: .cancel) == .signalCancel)
        #expect(RunLifecycle.transition(from: .running, on: .finish(.failed)) == .moveTo(.failed))
        #expect(RunLifecycle.transition(from: .running, on: .finish(.queued)) == .ignore("not possible while running"))
        #expect(RunLifecycle.transition(from: .running, on: .leaseExpired(attempt: 1, maxAttempts: 3)) == .moveTo(.queued))
        #expect(RunLifecycle.transition(from: .running, on: .leaseExpired(attempt: 3, maxAttempts: 3)) == .moveTo(.failed))
        #expect(RunLifecycle.transition(from: .running, on: .handBack) == .moveTo(.queued))
        for final in [RunPhase.succeeded, .failed, .cancelled] {
            for trigger in [RunLifecycle.Trigger.claim, .cancel, .finish(.succeeded), .handBack] {
                #expect(RunLifecycle.transition(from: final, on: trigger) == .ignore("the run already ended (\(final.rawValue))"))
            }
        }
        #expect(RunLifecycle.transition(from: .queued, on: .finish(.succeeded)) == .ignore("not possible while queued"))
    }
}

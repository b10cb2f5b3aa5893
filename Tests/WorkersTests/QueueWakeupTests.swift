import NodeKit
import SluiceTestSupport
import Store
import Testing
@testable import Workers

/// Idle workers wake as soon as a run is queued, never miss a wake-up that came while they asked the queue,
/// and fall back to their poll interval. (Bounds are generous: the whole suite runs in parallel on two cores;
/// a lost wake-up would wait for the ten-minute fallback and hit the time limit.)
@Suite(.timeLimit(.minutes(3))) struct QueueWakeupTests {
    static func elapsed(_ body: () async -> Void) async -> Duration {
        let start = ContinuousClock.now
        await body()
        return ContinuousClock.now - start
    }

    @Test func aSignalBetweenAskingAndWaitingIsNotMissed() async {
        let wakeup = QueueWakeup()
        let seen = wakeup.generation
        wakeup.signal() // a run was queued after the worker found the queue empty, before it waits
        #expect(await Self.elapsed { await wakeup.wait(after: seen, timeout: .seconds(600)) } < .seconds(120))
    }

    @Test func everyWaitingWorkerWakesOnASignal() async {
        let wakeup = QueueWakeup()
        let seen = wakeup.generation
        let waited = await Self.elapsed {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { await wakeup.wait(after: seen, timeout: .seconds(600)) } }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(100))
                    wakeup.signal()
                }
                await group.waitForAll()
            }
        }
        #expect(waited < .seconds(120))
        #expect(wakeup.generation == seen + 1)
    }

    @Test func withoutASignalTheWaitEndsAtTheTimeoutOrOnCancellation() async {
        let wakeup = QueueWakeup()
        let timedOut = await Self.elapsed { await wakeup.wait(after: wakeup.generation, timeout: .milliseconds(200)) }
        #expect(timedOut >= .milliseconds(200) && timedOut < .seconds(120))
        let task = Task { await wakeup.wait(after: wakeup.generation, timeout: .seconds(600)) }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        #expect(await Self.elapsed { await task.value } < .seconds(120))
    }
}


/// A worker pool idle on a ten-minute poll interval starts a run queued through the run queue at once.
@Suite struct WorkerPoolWakeupTests {
    @Test(.timeLimit(.minutes(3)))
    func aQueuedRunWakesAnIdleWorker() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try await MetadataStore.open(.sqlite(path: dir.file("store.db")))
        let bus = LocalEventBus()
        let pool = WorkerPool(store: store, vault: Vault(store: store), bus: bus,
                              configuration: WorkerConfiguration(pollInterval: .seconds(600), files: .unconfined(base: dir.path)), count: 1)
        let running = Task { await pool.run() }
        defer { running.cancel() }
        let user = try await store.createUser(name: "ada", role: .admin, passwordHash: "x")
        let pipeline = try await store.createPipeline(name: "p", document: "apiVersion: sluice/v1\nname: p\nnodes: []\n", message: "", author: user)
        try await Task.sleep(for: .milliseconds(300)) // the worker found the queue empty and waits
        let queued = ContinuousClock.now
        let run = try await RunQueue(store: store, bus: bus).enqueue(pipelineID: pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "ada")
        while try await store.run(id: run.id)?.phase == .queued { try await Task.sleep(for: .milliseconds(20)) }
        #expect(ContinuousClock.now - queued < .seconds(120), "claimed long before the next poll (ten minutes)")
        pool.stopClaiming()
        running.cancel()
        await running.value
        await store.database.close()
    }
}

public import Store
import Synchronization

/// A pool of workers in one process: each claims runs from the queue and executes them; one reaper
/// requeues runs whose worker died (lease expired).
///
/// `run()` lives until its task is cancelled (hard stop: running runs are handed back to the queue).
/// `stopClaiming()` is the graceful path: no new claims, current runs finish (a debug run, which may wait at a
/// breakpoint for as long as nobody answers, is stopped), then `run()` returns.
public final class WorkerPool: Sendable {
    public let store: MetadataStore
    public let vault: Vault
    public let bus: any EventBus
    /// Claims, finishes, hands back and reclaims runs, announcing each change.
    public let queue: RunQueue
    public let configuration: WorkerConfiguration
    public let count: Int
    private let claiming = Mutex(true)
    private let active = Mutex<Set<String>>([])
    private let wakeup = QueueWakeup()

    public init(store: MetadataStore, vault: Vault, bus: any EventBus, configuration: WorkerConfiguration, count: Int) {
        self.store = store
        self.vault = vault
        self.bus = bus
        queue = RunQueue(store: store, bus: bus)
        self.configuration = configuration
        self.count = count
    }

    public func stopClaiming() { claiming.withLock { $0 = false } }

    /// Ids of the runs executing in this process now.
    public var activeRuns: Set<String> { active.withLock { $0 } }

    public func run() async {
        await withTaskGroup(of: Void.self) { outer in
            // Queued runs (from the API, triggers, retries; other processes through a shared bus) wake idle workers.
            outer.addTask {
                for await update in self.bus.subscribe() where update.event == .status(.queued) {
                    self.wakeup.signal()
                }
            }
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    group.addTask { await self.workerLoop(index: index) }
                }
                group.addTask { await self.reaperLoop() }
                // The reaper stops when claiming stops; the workers when their current run is done.
                await group.waitForAll()
            }
            outer.cancelAll()
        }
    }

    private func workerLoop(index: Int) async {
        var configuration = self.configuration
        if count > 1 { configuration.workerID += "#\(index)" }
        var worker = RunWorker(queue: queue, connections: StoredConnections(store: store, vault: vault, files: configuration.files, outbound: configuration.outbound), configuration: configuration)
        worker.shutdown = { [self] in !self.claiming.withLock { $0 } }
        while !Task.isCancelled, claiming.withLock({ $0 }) {
            let seen = wakeup.generation
            let claimed: RunRecord?
            do { claimed = try await queue.claim(workerID: configuration.workerID, leaseMillis: configuration.leaseMillis) } catch { claimed = nil }
            guard let run = claimed else {
                await wakeup.wait(after: seen, timeout: configuration.pollInterval)
                if Task.isCancelled { return }
                continue
            }
            active.withLock { _ = $0.insert(run.id) }
            _ = await worker.execute(run)
            active.withLock { _ = $0.remove(run.id) }
        }
    }

    /// Requeues runs whose worker died, and says this process is alive (slots and busy workers) each round; the
    /// process's presence is removed when it stops claiming.
    private func reaperLoop() async {
        defer {
            let store = store, id = configuration.workerID
            Task { try? await store.removeWorker(id: id) }
        }
        while !Task.isCancelled, claiming.withLock({ $0 }) {
            try? await store.reportWorker(id: configuration.workerID, slots: count, busy: active.withLock { $0.count })
            let reclaimed = (try? await queue.reclaimExpiredLeases()) ?? []
            if !reclaimed.isEmpty { configuration.observer?.leasesReclaimed(reclaimed.count) }
            for run in reclaimed {
                try? await store.appendLogs(runID: run.id, [(store.now(), .warning, nil, "the worker holding this run stopped responding; run \(run.phase == .queued ? "requeued" : "failed")")])
            }
            do { try await Task.sleep(for: .milliseconds(max(configuration.leaseMillis / 2, 50))) } catch { return }
        }
    }
}

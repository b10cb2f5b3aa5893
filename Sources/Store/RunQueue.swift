import Synchronization

/// The run queue: every change of a run's state, together with its announcement.
///
/// Each method reads the run with its row locked, applies the pure `RunLifecycle` state machine to the phase it
/// read, and writes the result in one store transaction; the run update goes to other processes inside that
/// transaction (PostgreSQL `NOTIFY`, sent only if it commits) and to this process's subscribers after the commit.
/// Routes, the trigger dispatcher, workers and the lease reaper change runs only through it, and nothing else
/// announces run updates: progress and log lines go out through `report`.
public struct RunQueue: Sendable {
    public let store: MetadataStore
    public let bus: any EventBus

    public init(store: MetadataStore, bus: any EventBus) {
        self.store = store
        self.bus = bus
    }

    /// Queues a run of one revision (by hand or as a replay of `replayOf`'s rejects).
    public func enqueue(pipelineID: String, revision: Int64, parametersJSON: String, requestedBy: String, maxAttempts: Int64 = 3,
                        replayOf: String? = nil, debug: RunDebugSettings? = nil) async throws -> RunRecord {
        let at = store.now()
        return try await transaction { session, announce in
            let run = try await MetadataStore.insertRun(pipelineID: pipelineID, revision: revision, parametersJSON: parametersJSON, requestedBy: requestedBy,
                                                        maxAttempts: maxAttempts, replayOf: replayOf, triggerID: nil, debug: debug, at: at, in: session)
            announce.status(run, at: at)
            return run
        }
    }

    /// Claims the oldest queued run for `workerID` with a lease of `leaseMillis`, or nil when the queue is empty.
    public func claim(workerID: String, leaseMillis: Int64) async throws -> RunRecord? {
        let at = store.now()
        return try await transaction { session, announce in
            guard let run = try await store.claimRun(workerID: workerID, leaseMillis: leaseMillis, at: at, in: session) else { return nil }
            announce.status(run, at: at)
            return run
        }
    }

    /// Renews the lease if `workerID` still holds the run (no update is announced).
    public func heartbeat(runID: String, workerID: String, leaseMillis: Int64) async throws -> HeartbeatResult {
        try await store.heartbeat(runID: runID, workerID: workerID, leaseMillis: leaseMillis)
    }

    /// Ends a run `workerID` holds, announcing its outcome with the final node counters. False when the lease was
    /// lost (the result is then discarded).
    public func finish(runID: String, workerID: String, phase: RunPhase, error: String?, rejected: Int64, nodes: [RunNodeRecord]? = nil) async throws -> Bool {
        let at = store.now()
        return try await transaction { session, announce in
            guard let run = try await store.finishRun(runID: runID, workerID: workerID, phase: phase, error: error, rejected: rejected, at: at, in: session) else {
                return false
            }
            announce.add(RunUpdate(runID: run.id, pipelineID: run.pipelineID, event: .finished(run.phase, nodes: nodes, error: error), at: at))
            return true
        }
    }

    /// Gives a run back to the queue (graceful shutdown); the attempt is not counted against its retries.
    public func handBack(runID: String, workerID: String) async throws -> Bool {
        let at = store.now()
        return try await transaction { session, announce in
            guard let run = try await store.handBack(runID: runID, workerID: workerID, in: session) else { return false }
            announce.status(run, at: at)
            return true
        }
    }

    /// Cancels a queued run at once, or flags a running one for its worker (announcing its status, which the
    /// worker listens for). Returns the run afterwards.
    public func cancel(runID: String) async throws -> RunRecord? {
        let at = store.now()
        return try await transaction { session, announce in
            guard let (run, cancelledNow) = try await store.cancelRun(runID, at: at, in: session) else { return nil }
            // A running run's status is announced again: its worker hears it and checks the flag at once instead
            // of at its next heartbeat.
            if cancelledNow { announce.finished(run, at: at) } else if !run.phase.isFinal { announce.status(run, at: at) }
            return run
        }
    }

    /// Requeues (or fails, when out of attempts) runs whose lease expired; returns them as they are now.
    public func reclaimExpiredLeases() async throws -> [RunRecord] {
        let at = store.now()
        return try await transaction { session, announce in
            let moved = try await store.reclaimExpiredLeases(at: at, in: session)
            for run in moved { if run.phase.isFinal { announce.finished(run, at: at) } else { announce.status(run, at: at) } }
            return moved
        }
    }

    /// Records a trigger's firing with the runs it queues and cancels and the trigger's new state, announcing
    /// those runs. Nil when the trigger's state changed since `expectedVersion` (another scheduler fired first).
    public func recordFiring(_ firing: TriggerFiring, runs: [TriggeredRun], cancelling: [String] = [], requestedBy: String,
                             expectedVersion: Int64?, newStateJSON: String?) async throws -> TriggerFiring? {
        let at = store.now()
        return try await transaction { session, announce in
            guard let recorded = try await store.recordFiring(firing, runs: runs, cancelling: cancelling, requestedBy: requestedBy, expectedVersion: expectedVersion,
                                                              newStateJSON: newStateJSON, at: at, in: session) else { return nil }
            for run in recorded.cancelled { announce.finished(run, at: at) }
            for run in recorded.queued { announce.status(run, at: at) }
            return recorded.firing
        }
    }

    /// Announces a running run's progress or a log line (no state changes; the worker writes counters and logs itself).
    public func report(_ update: RunUpdate) {
        bus.publish(update)
    }

    /// Runs `body` in one store transaction; the updates it announces are sent inside it and delivered here after the commit.
    private func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreSession, Announcements) async throws -> T) async throws -> T {
        let announcements = Announcements()
        let bus = bus
        let result = try await store.transaction { session in
            announcements.reset() // a retried transaction announces only what its last attempt did
            let value = try await body(session, announcements)
            try await bus.send(announcements.updates, in: session)
            return value
        }
        for update in announcements.updates { bus.deliver(update) }
        return result
    }
}

/// The run updates one queue transaction announces.
final class Announcements: Sendable {
    private let collected = Mutex<[RunUpdate]>([])

    var updates: [RunUpdate] { collected.withLock { $0 } }
    func reset() { collected.withLock { $0 = [] } }
    func add(_ update: RunUpdate) { collected.withLock { $0.append(update) } }

    /// A change of phase.
    func status(_ run: RunRecord, at: Int64) {
        add(RunUpdate(runID: run.id, pipelineID: run.pipelineID, event: .status(run.phase), at: at))
    }

    /// A run that ended without a worker's counters (cancelled while queued, failed by the reaper).
    func finished(_ run: RunRecord, at: Int64) {
        add(RunUpdate(runID: run.id, pipelineID: run.pipelineID, event: .finished(run.phase, nodes: nil, error: run.error), at: at))
    }
}

import Columnar
import NodeKit

/// Drives one node through a run: waits for signals, takes a source slot, runs attempts with
/// retries and a timeout, commits or aborts a sink's output, and reports events.
struct NodeDriver {
    let node: PlannedNode
    let context: NodeRunContext
    let options: RunOptions
    let coordinator: RunCoordinator
    let slots: SourceSlots?
    /// The signal edges into the node: each names a node that must have succeeded (`done`) or failed (`failed`).
    let signals: [SignalRequirement]
    /// The node lies in a failure branch (at or after the target of a `failed` edge): it runs on after another
    /// node failed, and only a cancelled run stops it.
    let inFailureBranch: Bool
    /// The nodes feeding this node's data inputs: when every one of them was skipped, so is this node.
    let producers: Set<String>
    /// The nodes its rows flow into (`ExecutionPlan.commitWaits`): its commit waits until they ended.
    var commitWaits: Set<String> = []

    /// Whether the run is being stopped for this node: any teardown for most nodes, only a cancellation for a
    /// failure branch (which exists to run after a failure).
    private var isStopping: Bool { inFailureBranch ? coordinator.isCancelled : coordinator.isTearingDown }

    func run() async {
        let events = options.events
        let signalled = await coordinator.waitFor(signals)
        let fed = signalled ? await coordinator.waitForProducers(producers) : false
        if !signalled || !fed || isStopping {
            finishOutputs()
            coordinator.setOutcome(node.id, .skipped)
            coordinator.complete(node.id, .skipped)
            events.send(.nodeFinished(node: node.id, outcome: .skipped, counts: NodeCounts(), duration: .zero, error: signalled ? "skipped: every node feeding it was skipped" : "skipped: an upstream signal did not succeed"))
            return
        }
        coordinator.markStarted(node.id)
        if let slots { await slots.acquire() }
        defer { slots?.release() }

        let started = ContinuousClock.now
        coordinator.setRunning(node.id, true)
        var retry = RetryStateMachine(policy: node.retry)
        var attempt = 1
        while true {
            events.send(.nodeStarted(node: node.id, attempt: attempt))
            let before = coordinator.counts(node.id)
            do {
                let pending: (any PendingCommit)?
                do { pending = try await runAttempt() } catch is DownstreamClosed { pending = nil }
                finishOutputs()
                try await settle(pending)
                finish(.succeeded, started, error: nil)
                return
            } catch {
                let after = coordinator.counts(node.id)
                let moved = after.recordsIn != before.recordsIn || after.recordsOut != before.recordsOut
                if isStopping || error is RunAborted || error is CancellationError {
                    // Aborted while the run still runs (a debug run's controller said stop): the whole run is cancelled
                    // before this node's outputs end, so no sink downstream takes the end for a finished input and commits.
                    if !isStopping { coordinator.cancel() }
                    finishOutputs()
                    finish(.cancelled, started, error: nil)
                    return
                }
                let nodeError = error as? NodeError
                if case let .retry(after: delay) = retry.attemptFailed(isRetryable: nodeError?.isRetryable ?? false, movedRecords: moved) {
                    events.send(.nodeRetrying(node: node.id, attempt: attempt + 1, after: delay, error: "\(error)"))
                    do { try await options.clock.sleep(for: delay) } catch {
                        finishOutputs()
                        finish(.cancelled, started, error: nil)
                        return
                    }
                    attempt += 1
                    continue
                }
                let message = "node '\(node.id)' (\(node.spec.reference)) failed: \(error)"
                coordinator.fail(message)
                finishOutputs()
                finish(.failed, started, error: "\(error)")
                return
            }
        }
    }

    private func runAttempt() async throws -> (any PendingCommit)? {
        let work = node.work, context = context
        // A debug run may stay paused for as long as its controller looks at a batch: no timeouts then.
        guard let timeout = node.timeout, options.debugger == nil else { return try await work.run(context) }
        let clock = options.clock, id = node.id
        return try await withThrowingTaskGroup(of: PendingBox.self) { group in
            group.addTask { PendingBox(pending: try await work.run(context)) }
            group.addTask {
                try await clock.sleep(for: timeout)
                throw NodeError(code: "timeout", message: "node '\(id)' did not finish within \(timeout)", isRetryable: true)
            }
            let first = try await group.next()!
            group.cancelAll()
            return first.pending
        }
    }

    /// Commits a node's output if the run is still healthy, otherwise aborts it.
    private func settle(_ pending: (any PendingCommit)?) async throws {
        guard let pending else { return }
        // A node whose rows flow on commits when the nodes they reach have ended, if the run is still healthy then.
        _ = await coordinator.waitFor(commitWaits.sorted().map { SignalRequirement(node: $0, wantsFailure: false) })
        // A failure branch commits although the run is failing (its output records the failure); others only in a healthy run.
        guard inFailureBranch ? !coordinator.isCancelled : coordinator.canCommit, !context.isPreview else {
            await pending.abort()
            throw RunAborted()
        }
        guard options.commitsOutputs else {
            await pending.abort()
            options.events.send(.log(node: node.id, level: .info, message: "output not committed: this debug run commits nothing"))
            return
        }
        do { try await pending.commit() } catch {
            await pending.abort()
            throw error
        }
        options.events.send(.nodeCommitted(node: node.id))
    }

    private func finishOutputs() {
        for outputs in context.outputs.values { for output in outputs { output.channel.finishProducer() } }
    }

    private func finish(_ outcome: NodeOutcome, _ started: ContinuousClock.Instant, error: String?) {
        coordinator.setRunning(node.id, false)
        coordinator.setOutcome(node.id, outcome)
        coordinator.complete(node.id, outcome)
        options.events.send(.nodeFinished(node: node.id, outcome: outcome, counts: coordinator.counts(node.id), duration: ContinuousClock.now - started, error: error))
    }
}

/// Carries a pending commit out of a task group child.
struct PendingBox: Sendable {
    let pending: (any PendingCommit)?
}

import Columnar
import NodeKit
import Synchronization

/// The error every waiter sees when a run is torn down because something else failed or it was cancelled.
struct RunAborted: Error, CustomStringConvertible {
    var description: String { "run aborted" }
}

/// Shared, lock-protected state of one run: lifecycle, counters, channels to tear down, signal completion.
final class RunCoordinator: Sendable {
    private struct State {
        var machine = RunStateMachine()
        var counts: [String: NodeCounts] = [:]
        var running: Set<String> = []
        var outcomes: [String: NodeOutcome] = [:]
        var rejected = 0
        var previewComplete = false
        var completion: [String: NodeOutcome] = [:]
        var states: [String: String] = [:]
        var waiters: [(requirements: [SignalRequirement], continuation: CheckedContinuation<Bool, Never>)] = []
        var started: Set<String> = []
        var producerWaiters: [(producers: Set<String>, continuation: CheckedContinuation<Bool, Never>)] = []
    }

    private let state = Mutex(State())
    /// The channels a teardown fails (not those inside a failure branch, which runs on after a failure).
    private let channels: [BoundedChannel<RecordBatch>]

    init(channels: [BoundedChannel<RecordBatch>]) { self.channels = channels }

    // MARK: Lifecycle

    var canCommit: Bool { state.withLock { $0.machine.canCommit } }
    var isTearingDown: Bool { state.withLock { $0.machine.state != .running } }
    /// The run was cancelled (by a user, a timeout or a complete preview), not failed.
    var isCancelled: Bool { state.withLock { $0.machine.state == .cancelling || $0.machine.state == .cancelled } }
    var machineState: RunStateMachine.State { state.withLock { $0.machine.state } }
    var previewComplete: Bool { state.withLock { $0.previewComplete } }

    func fail(_ reason: String) {
        let action = state.withLock { $0.machine.nodeFailed(reason) }
        if action == .tearDown { tearDown() }
    }

    func cancel() {
        let action = state.withLock { $0.machine.cancelRequested() }
        if action == .tearDown { tearDown() }
    }

    /// A preview collected enough rows: stop the run, which still counts as succeeded.
    func finishPreview() {
        let action = state.withLock { s in
            s.previewComplete = true
            return s.machine.cancelRequested()
        }
        if action == .tearDown { tearDown() }
    }

    func allNodesEnded() -> RunStateMachine.State {
        state.withLock { s in
            s.machine.allNodesEnded()
            return s.machine.state
        }
    }

    private func tearDown() {
        for channel in channels { channel.fail(RunAborted()) }
    }

    // MARK: Counters

    func add(_ node: String, recordsIn: Int = 0, recordsOut: Int = 0, rejected: Int = 0, bytes: Int = 0) {
        state.withLock { s in
            s.counts[node, default: NodeCounts()].recordsIn += recordsIn
            s.counts[node, default: NodeCounts()].recordsOut += recordsOut
            s.counts[node, default: NodeCounts()].rejected += rejected
            s.counts[node, default: NodeCounts()].bytes += bytes
        }
    }

    func expect(_ node: String, bytes: Int) {
        state.withLock { $0.counts[node, default: NodeCounts()].bytesExpected = bytes }
    }

    /// Adds rejected records to the run total and returns the new total.
    func addRejected(_ node: String, _ count: Int) -> Int {
        state.withLock { s in
            s.counts[node, default: NodeCounts()].rejected += count
            s.rejected += count
            return s.rejected
        }
    }

    func counts(_ node: String) -> NodeCounts { state.withLock { $0.counts[node] ?? NodeCounts() } }
    var totalRejected: Int { state.withLock { $0.rejected } }

    func setRunning(_ node: String, _ running: Bool) {
        state.withLock { s in if running { s.running.insert(node) } else { s.running.remove(node) } }
    }

    func runningCounts() -> [(String, NodeCounts)] {
        state.withLock { s in s.running.sorted().map { ($0, s.counts[$0] ?? NodeCounts()) } }
    }

    func setOutcome(_ node: String, _ outcome: NodeOutcome) { state.withLock { $0.outcomes[node] = outcome } }
    func outcome(_ node: String) -> NodeOutcome? { state.withLock { $0.outcomes[node] } }

    // MARK: Source state

    func publishState(_ node: String, _ value: String) { state.withLock { $0.states[node] = value } }

    func states(of nodes: [String]) -> [(String, String)] {
        state.withLock { s in nodes.compactMap { node in s.states[node].map { (node, $0) } } }
    }

    // MARK: Signal edges

    /// Records how `node` ended and wakes the nodes waiting on it.
    func complete(_ node: String, _ outcome: NodeOutcome) {
        let ready: [(Bool, CheckedContinuation<Bool, Never>)] = state.withLock { s in
            s.completion[node] = outcome
            var ready: [(Bool, CheckedContinuation<Bool, Never>)] = []
            s.waiters.removeAll { waiter in
                guard let met = SignalRequirement.met(waiter.requirements, s.completion) else { return false }
                ready.append((met, waiter.continuation))
                return true
            }
            return ready + Self.readyProducerWaiters(&s)
        }
        for (ok, continuation) in ready { continuation.resume(returning: ok) }
    }

    /// Records that `node` passed its signals and starts working (it was not skipped).
    func markStarted(_ node: String) {
        let ready = state.withLock { s in
            s.started.insert(node)
            return Self.readyProducerWaiters(&s)
        }
        for (ok, continuation) in ready { continuation.resume(returning: ok) }
    }

    /// Waits until one of `producers` (the nodes feeding a node's data inputs) started, true, or all were
    /// skipped, false: a node whose every producer was skipped is skipped too.
    func waitForProducers(_ producers: Set<String>) async -> Bool {
        guard !producers.isEmpty else { return true }
        return await withCheckedContinuation { continuation in
            let immediate: Bool? = state.withLock { s in
                if let decided = Self.producersDecided(producers, s) { return decided }
                s.producerWaiters.append((producers, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    private static func producersDecided(_ producers: Set<String>, _ s: State) -> Bool? {
        if producers.contains(where: { s.started.contains($0) || (s.completion[$0].map { $0 != .skipped } ?? false) }) { return true }
        if producers.allSatisfy({ s.completion[$0] == .skipped }) { return false }
        return nil
    }

    private static func readyProducerWaiters(_ s: inout State) -> [(Bool, CheckedContinuation<Bool, Never>)] {
        var ready: [(Bool, CheckedContinuation<Bool, Never>)] = []
        let snapshot = s
        s.producerWaiters.removeAll { waiter in
            guard let decided = producersDecided(waiter.producers, snapshot) else { return false }
            ready.append((decided, waiter.continuation))
            return true
        }
        return ready
    }

    /// Waits until every node the requirements name ended; true if every requirement holds (`done`: the node
    /// succeeded; `failed`: it failed).
    func waitFor(_ requirements: [SignalRequirement]) async -> Bool {
        guard !requirements.isEmpty else { return true }
        return await withCheckedContinuation { continuation in
            let immediate: Bool? = state.withLock { s in
                if let met = SignalRequirement.met(requirements, s.completion) { return met }
                s.waiters.append((requirements, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }
}

/// What one signal edge into a node asks: that its source node succeeded (`done`) or failed (`failed`).
struct SignalRequirement: Sendable, Hashable {
    let node: String
    let wantsFailure: Bool

    /// Whether all requirements hold, once every node they name ended (nil before).
    static func met(_ requirements: [SignalRequirement], _ completion: [String: NodeOutcome]) -> Bool? {
        var met = true
        for requirement in requirements {
            guard let outcome = completion[requirement.node] else { return nil }
            if requirement.wantsFailure ? outcome != .failed : outcome != .succeeded { met = false }
        }
        return met
    }
}

/// Limits how many source nodes read at once (`settings.maxConcurrency`).
final class SourceSlots: Sendable {
    private let state: Mutex<(free: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(_ count: Int) { state = Mutex((count, [])) }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { s in
                if s.free > 0 { s.free -= 1; return true }
                s.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty { s.free += 1; return nil }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

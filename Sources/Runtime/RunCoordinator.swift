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
        var completion: [String: Bool] = [:]
        var states: [String: String] = [:]
        var waiters: [(nodes: Set<String>, continuation: CheckedContinuation<Bool, Never>)] = []
    }

    private let state = Mutex(State())
    private let channels: [BoundedChannel<RecordBatch>]

    init(channels: [BoundedChannel<RecordBatch>]) { self.channels = channels }

    // MARK: Lifecycle

    var canCommit: Bool { state.withLock { $0.machine.canCommit } }
    var isTearingDown: Bool { state.withLock { $0.machine.state != .running } }
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

    /// Records that `node` ended (successfully or not) and wakes nodes waiting on it.
    func complete(_ node: String, succeeded: Bool) {
        let ready: [(Bool, CheckedContinuation<Bool, Never>)] = state.withLock { s in
            s.completion[node] = succeeded
            var ready: [(Bool, CheckedContinuation<Bool, Never>)] = []
            s.waiters.removeAll { waiter in
                guard waiter.nodes.allSatisfy({ s.completion[$0] != nil }) else { return false }
                ready.append((waiter.nodes.allSatisfy { s.completion[$0] == true }, waiter.continuation))
                return true
            }
            return ready
        }
        for (ok, continuation) in ready { continuation.resume(returning: ok) }
    }

    /// Waits until every node in `nodes` ended; true if all succeeded.
    func waitForCompletion(of nodes: Set<String>) async -> Bool {
        guard !nodes.isEmpty else { return true }
        return await withCheckedContinuation { continuation in
            let immediate: Bool? = state.withLock { s in
                if nodes.allSatisfy({ s.completion[$0] != nil }) { return nodes.allSatisfy { s.completion[$0] == true } }
                s.waiters.append((nodes, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
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

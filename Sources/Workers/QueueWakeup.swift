import Synchronization

/// Wakes idle workers as soon as a run is queued, instead of at their next poll of the queue.
///
/// A generation counter makes wake-ups impossible to miss: a worker notes the generation before it asks the
/// queue for a run, and `wait(after:timeout:)` returns at once if a run was queued since. The poll interval
/// stays as the fallback (runs queued by another process on a store without a shared event bus).
final class QueueWakeup: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    /// A run was queued: every waiting worker wakes.
    func signal() {
        let waiting = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Returns when signalled after generation `seen`, after `timeout`, or when the task is cancelled.
    func wait(after seen: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.signalled(after: seen) }
            await group.next()
            group.cancelAll()
        }
    }

    private func signalled(after seen: UInt64) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

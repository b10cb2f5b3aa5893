import Synchronization

/// A bounded multi-producer, single-consumer async channel: the edge between two nodes.
///
/// `send` suspends while `capacity` elements are buffered (backpressure), so memory is bounded by
/// capacity × element size. The channel ends when every producer called `finishProducer()`.
/// `fail(_:)` wakes every waiter with the error (used to tear a run down). Waiting is cancellable.
final class BoundedChannel<Element: Sendable>: Sendable {
    private struct State {
        /// At most `capacity` elements (a handful of batches), so removing from the front is cheap.
        var buffer: [Element] = []
        var producers: Int
        var failure: (any Error)?
        var receiver: CheckedContinuation<Element?, any Error>?
        var senders: [(id: Int, element: Element, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
        var closedForReading = false

        var buffered: Int { buffer.count }

        /// Removes the element so the channel never keeps a consumed batch alive.
        mutating func popFirst() -> Element { buffer.removeFirst() }
    }

    private enum SendOutcome { case done, dropped, wait, failed(any Error) }
    private enum ReceiveOutcome { case element(Element?), wait, failed(any Error) }

    let capacity: Int
    private let state: Mutex<State>

    init(capacity: Int, producers: Int) {
        precondition(capacity > 0, "channel capacity must be positive")
        self.capacity = capacity
        state = Mutex(State(producers: producers))
    }

    /// Sends an element; returns false (dropping it) when the consumer closed the channel for reading.
    @discardableResult
    func send(_ element: Element) async throws -> Bool {
        let outcome: SendOutcome = state.withLock { s in
            if let failure = s.failure { return .failed(failure) }
            if s.closedForReading { return .dropped }
            if let receiver = s.receiver {
                s.receiver = nil
                receiver.resume(returning: element)
                return .done
            }
            if s.buffered < capacity {
                s.buffer.append(element)
                return .done
            }
            return .wait
        }
        switch outcome {
        case .done: return true
        case .dropped: return false
        case let .failed(error): throw error
        case .wait: break
        }
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                state.withLock { s in
                    if let failure = s.failure { continuation.resume(throwing: failure); return }
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()); return }
                    if s.closedForReading { continuation.resume(); return }
                    if let receiver = s.receiver {
                        s.receiver = nil
                        receiver.resume(returning: element)
                        continuation.resume()
                        return
                    }
                    if s.buffered < capacity {
                        s.buffer.append(element)
                        continuation.resume()
                        return
                    }
                    s.senders.append((id, element, continuation))
                }
            }
        } onCancel: {
            state.withLock { s in
                if let index = s.senders.firstIndex(where: { $0.id == id }) {
                    s.senders.remove(at: index).continuation.resume(throwing: CancellationError())
                }
            }
        }
        return state.withLock { !$0.closedForReading }
    }

    /// The consumer wants no more: buffered and waiting elements are dropped, later sends return false.
    func closeForReading() {
        state.withLock { s in
            s.closedForReading = true
            s.buffer.removeAll()
            for sender in s.senders { sender.continuation.resume() }
            s.senders.removeAll()
        }
    }

    var isClosedForReading: Bool { state.withLock { $0.closedForReading } }

    /// The next element, or `nil` once every producer finished and the buffer is drained.
    func receive() async throws -> Element? {
        let outcome: ReceiveOutcome = state.withLock { s in
            if let failure = s.failure { return .failed(failure) }
            if s.buffered > 0 {
                let element = s.popFirst()
                if !s.senders.isEmpty {
                    let sender = s.senders.removeFirst()
                    s.buffer.append(sender.element)
                    sender.continuation.resume()
                }
                return .element(element)
            }
            if s.producers == 0 { return .element(nil) }
            return .wait
        }
        switch outcome {
        case let .element(e): return e
        case let .failed(error): throw error
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
                state.withLock { s in
                    if let failure = s.failure { continuation.resume(throwing: failure); return }
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()); return }
                    if s.buffered > 0 { continuation.resume(returning: s.popFirst()); return }
                    if s.producers == 0 { continuation.resume(returning: nil); return }
                    precondition(s.receiver == nil, "a channel has exactly one consumer")
                    s.receiver = continuation
                }
            }
        } onCancel: {
            state.withLock { s in
                s.receiver?.resume(throwing: CancellationError())
                s.receiver = nil
            }
        }
    }

    /// One producer is done; when the last one is, the consumer sees the end.
    func finishProducer() {
        state.withLock { s in
            s.producers -= 1
            if s.producers <= 0, s.buffered == 0, let receiver = s.receiver {
                s.receiver = nil
                receiver.resume(returning: nil)
            }
        }
    }

    /// Wakes every waiter with `error`; later calls to send and receive throw it.
    func fail(_ error: any Error) {
        state.withLock { s in
            guard s.failure == nil else { return }
            s.failure = error
            s.receiver?.resume(throwing: error)
            s.receiver = nil
            for sender in s.senders { sender.continuation.resume(throwing: error) }
            s.senders.removeAll()
            s.buffer.removeAll()
        }
    }
}

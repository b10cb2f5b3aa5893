/// The lifecycle of one run: `running → succeeded | failed | cancelled`. Pure: events in, actions out.
///
/// The first failure or cancellation wins; later node failures caused by the teardown are not the reason.
public struct RunStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        case running
        case failing(reason: String)
        case cancelling
        case succeeded
        case failed(reason: String)
        case cancelled
    }

    public enum Action: Sendable, Equatable {
        /// Tear the run down: fail every channel, cancel every node, abort pending commits.
        case tearDown
        case none
    }

    public private(set) var state: State = .running

    public init() {}

    /// Whether sinks may still commit.
    public var canCommit: Bool { state == .running }

    public mutating func nodeFailed(_ reason: String) -> Action {
        guard state == .running else { return .none }
        state = .failing(reason: reason)
        return .tearDown
    }

    public mutating func cancelRequested() -> Action {
        guard state == .running else { return .none }
        state = .cancelling
        return .tearDown
    }

    /// Every node task has ended; settles the final state.
    public mutating func allNodesEnded() {
        switch state {
        case .running: state = .succeeded
        case let .failing(reason): state = .failed(reason: reason)
        case .cancelling: state = .cancelled
        default: break
        }
    }
}

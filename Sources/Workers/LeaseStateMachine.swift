/// A worker's view of its lease on one run, as a pure state machine: what to do after each heartbeat.
///
/// The worker must stop (without committing) as soon as it cannot be sure it still holds the run:
/// when the store says the lease is gone, or when heartbeats have failed until the lease would have expired.
struct LeaseStateMachine {
    enum State: Equatable {
        case held(expiresAt: Int64)
        case cancelling(expiresAt: Int64)
        case lost
    }

    enum Action: Equatable {
        case none
        /// The user asked to cancel: stop the run and report it cancelled.
        case cancelRun
        /// Ownership is gone or uncertain: stop at once and report nothing.
        case abandonRun
    }

    private(set) var state: State

    init(expiresAt: Int64) { state = .held(expiresAt: expiresAt) }

    mutating func heartbeatRenewed(expiresAt: Int64, cancelRequested: Bool) -> Action {
        switch state {
        case .lost:
            return .none
        case .cancelling:
            state = .cancelling(expiresAt: expiresAt)
            return .none
        case .held:
            if cancelRequested {
                state = .cancelling(expiresAt: expiresAt)
                return .cancelRun
            }
            state = .held(expiresAt: expiresAt)
            return .none
        }
    }

    mutating func heartbeatLost() -> Action {
        if state == .lost { return .none }
        state = .lost
        return .abandonRun
    }

    /// The store could not be reached; keep going while the lease is surely still ours.
    mutating func heartbeatFailed(now: Int64) -> Action {
        switch state {
        case let .held(expiresAt), let .cancelling(expiresAt):
            guard now >= expiresAt else { return .none }
            state = .lost
            return .abandonRun
        case .lost:
            return .none
        }
    }

    var isLost: Bool { state == .lost }
}

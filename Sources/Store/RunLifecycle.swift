/// Where a queued run is in its life: `queued → running → succeeded / failed / cancelled`.
public enum RunPhase: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// The run queue's rules as a pure state machine: given a phase and what happened, what the store must do.
///
/// `RunQueue` reads the run with its row locked, asks this machine with the phase it read, and applies the
/// answer in the same transaction, so concurrent servers and workers cannot apply two transitions to one run.
public enum RunLifecycle {
    /// Something that happens to a queued or running run.
    public enum Trigger: Sendable, Equatable {
        case claim
        case finish(RunPhase)
        case cancel
        /// The holder's lease ran out (its worker died or hung). `attempt` counts claims so far.
        case leaseExpired(attempt: Int64, maxAttempts: Int64)
        /// The holder is shutting down gracefully and hands the run back unstarted or interrupted.
        case handBack
    }

    /// What the store should do.
    public enum Transition: Sendable, Equatable {
        case moveTo(RunPhase)
        /// Leave the phase; set the cancel flag the holding worker sees on its next heartbeat.
        case signalCancel
        /// Nothing to do (already final, or not applicable), with the reason.
        case ignore(String)
    }

    public static func transition(from phase: RunPhase, on trigger: Trigger) -> Transition {
        switch (phase, trigger) {
        case (.queued, .claim): .moveTo(.running)
        case (.queued, .cancel): .moveTo(.cancelled)
        case (.running, .cancel): .signalCancel
        case let (.running, .finish(outcome)) where outcome.isFinal: .moveTo(outcome)
        case let (.running, .leaseExpired(attempt, maxAttempts)): attempt < maxAttempts ? .moveTo(.queued) : .moveTo(.failed)
        case (.running, .handBack): .moveTo(.queued)
        case (_, _) where phase.isFinal: .ignore("the run already ended (\(phase.rawValue))")
        default: .ignore("not possible while \(phase.rawValue)")
        }
    }
}

public import NodeKit

/// Decides, after a node attempt failed, whether to try again and after how long. Pure: no clock, no I/O.
///
/// A node is retried only when the error is retryable, attempts remain, and the failed attempt
/// neither consumed nor emitted records (a half-streamed attempt cannot be replayed without duplicates).
public struct RetryStateMachine: Sendable {
    public enum Action: Sendable, Equatable {
        case retry(after: Duration)
        case giveUp
    }

    public let policy: RetrySettings
    public private(set) var attempt = 1

    public init(policy: RetrySettings) { self.policy = policy }

    public mutating func attemptFailed(isRetryable: Bool, movedRecords: Bool) -> Action {
        guard isRetryable, !movedRecords, attempt < policy.attempts else { return .giveUp }
        var delay = policy.backoff
        for _ in 1..<attempt { delay = min(delay * 2, policy.maxBackoff) }
        attempt += 1
        return .retry(after: min(delay, policy.maxBackoff))
    }
}

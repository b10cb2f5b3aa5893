import NodeKit
import Runtime
import Testing

@Suite struct RetryStateMachineTests {
    @Test func backoffDoublesUpToTheMaximum() {
        var machine = RetryStateMachine(policy: RetrySettings(attempts: 5, backoff: .seconds(1), maxBackoff: .seconds(3)))
        #expect(machine.attemptFailed(isRetryable: true, movedRecords: false) == .retry(after: .seconds(1)))
        #expect(machine.attemptFailed(isRetryable: true, movedRecords: false) == .retry(after: .seconds(2)))
        #expect(machine.attemptFailed(isRetryable: true, movedRecords: false) == .retry(after: .seconds(3)))
        #expect(machine.attemptFailed(isRetryable: true, movedRecords: false) == .retry(after: .seconds(3)))
        #expect(machine.attemptFailed(isRetryable: true, movedRecords: false) == .giveUp)
        #expect(machine.attempt == 5)
    }

    @Test func nonRetryableOrHalfStreamedFailuresGiveUp() {
        var machine = RetryStateMachine(policy: RetrySettings(attempts: 3))
        #expect(machine.attemptFailed(isRetryable: false, movedRecords: false) == .giveUp)
        #expect(machine.attemptFailed(isRetryable: true, movedRecords: true) == .giveUp)
        #expect(machine.attempt == 1)
    }
}

@Suite struct RunStateMachineTests {
    @Test func aRunWithoutFailuresSucceeds() {
        var machine = RunStateMachine()
        #expect(machine.canCommit)
        machine.allNodesEnded()
        #expect(machine.state == .succeeded)
    }

    @Test func theFirstFailureWinsAndStopsCommits() {
        var machine = RunStateMachine()
        #expect(machine.nodeFailed("a broke") == .tearDown)
        #expect(!machine.canCommit)
        #expect(machine.nodeFailed("b broke while tearing down") == .none)
        #expect(machine.cancelRequested() == .none)
        machine.allNodesEnded()
        #expect(machine.state == .failed(reason: "a broke"))
    }

    @Test func cancellationEndsCancelled() {
        var machine = RunStateMachine()
        #expect(machine.cancelRequested() == .tearDown)
        #expect(machine.nodeFailed("late") == .none)
        machine.allNodesEnded()
        #expect(machine.state == .cancelled)
    }
}

import Testing
@testable import Workers

/// A worker's lease, without I/O: renewals keep it, a cancel request is acted on once, a lease the store no
/// longer grants is abandoned at once, and failing heartbeats abandon it only when it would have expired.
@Suite struct LeaseStateMachineTests {
    @Test func renewalsKeepTheLeaseAndACancelIsActedOnOnce() {
        var lease = LeaseStateMachine(expiresAt: 1_000)
        #expect(lease.heartbeatRenewed(expiresAt: 2_000, cancelRequested: false) == .none)
        #expect(lease.state == .held(expiresAt: 2_000))
        #expect(lease.heartbeatRenewed(expiresAt: 3_000, cancelRequested: true) == .cancelRun)
        #expect(lease.heartbeatRenewed(expiresAt: 4_000, cancelRequested: true) == .none)
        #expect(lease.state == .cancelling(expiresAt: 4_000))
        #expect(!lease.isLost)
    }

    @Test func aLeaseTheStoreNoLongerGrantsIsAbandonedOnce() {
        var lease = LeaseStateMachine(expiresAt: 1_000)
        #expect(lease.heartbeatLost() == .abandonRun)
        #expect(lease.heartbeatLost() == .none)
        #expect(lease.heartbeatRenewed(expiresAt: 9_000, cancelRequested: false) == .none)
        #expect(lease.isLost)
    }

    @Test(arguments: [(999, false), (1_000, true), (5_000, true)])
    func failedHeartbeatsAbandonOnlyOnceTheLeaseWouldHaveExpired(now: Int64, abandons: Bool) {
        var lease = LeaseStateMachine(expiresAt: 1_000)
        #expect(lease.heartbeatFailed(now: now) == (abandons ? .abandonRun : .none))
        #expect(lease.isLost == abandons)
    }

    @Test func aCancellingLeaseIsStillAbandonedWhenItExpires() {
        var lease = LeaseStateMachine(expiresAt: 1_000)
        _ = lease.heartbeatRenewed(expiresAt: 2_000, cancelRequested: true)
        #expect(lease.heartbeatFailed(now: 1_500) == .none)
        #expect(lease.heartbeatFailed(now: 2_000) == .abandonRun)
        #expect(lease.heartbeatFailed(now: 3_000) == .none)
    }
}

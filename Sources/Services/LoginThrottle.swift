import Store

/// Limits failed logins per account and per client address: after `limit` failures inside `window`,
/// further attempts are refused until the window passes. Success clears the account's count.
///
/// The failures are kept in the metadata store, so every server process of a store shares one budget.
struct LoginThrottle: Sendable {
    let store: MetadataStore
    let limit: Int
    let windowMillis: Int64

    init(store: MetadataStore, limit: Int = 5, windowMillis: Int64 = 15 * 60 * 1000) {
        self.store = store
        self.limit = limit
        self.windowMillis = windowMillis
    }

    /// Milliseconds until another attempt is allowed for these keys, or nil when allowed now.
    func retryAfter(keys: [String], now: Int64) async throws -> Int64? {
        try await store.loginRetryAfter(keys: keys, now: now, limit: limit, windowMillis: windowMillis)
    }

    func recordFailure(keys: [String], now: Int64) async throws {
        try await store.recordLoginFailure(keys: keys, now: now, windowMillis: windowMillis)
    }

    func recordSuccess(key: String) async throws {
        try await store.clearLoginFailures(key: key)
    }
}

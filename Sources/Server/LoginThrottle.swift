import Synchronization

/// Limits failed logins per account and per client address: after `limit` failures inside `window`,
/// further attempts are refused until the window passes. Success clears the account's count.
///
/// In-process memory; with several servers each limits on its own (an attacker gets at most N× the budget).
final class LoginThrottle: Sendable {
    private struct Entry { var failures: [Int64] = [] }
    private let entries = Mutex<[String: Entry]>([:])
    let limit: Int
    let windowMillis: Int64

    init(limit: Int = 5, windowMillis: Int64 = 15 * 60 * 1000) {
        self.limit = limit
        self.windowMillis = windowMillis
    }

    /// Milliseconds until another attempt is allowed for these keys, or nil when allowed now.
    func retryAfter(keys: [String], now: Int64) -> Int64? {
        entries.withLock { entries in
            var wait: Int64?
            for key in keys {
                let recent = (entries[key]?.failures ?? []).filter { $0 > now - windowMillis }
                entries[key] = Entry(failures: recent)
                if recent.count >= limit, let oldest = recent.first { wait = max(wait ?? 0, oldest + windowMillis - now) }
            }
            return wait
        }
    }

    func recordFailure(keys: [String], now: Int64) {
        entries.withLock { entries in for key in keys { entries[key, default: Entry()].failures.append(now) } }
    }

    func recordSuccess(key: String) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}

extension MetadataStore {
    /// Milliseconds until a sign-in is allowed again for any of `keys` (at least `limit` failures inside the
    /// window), or nil when allowed now. Every server process of the store sees the same failures.
    public func loginRetryAfter(keys: [String], now: Int64, limit: Int, windowMillis: Int64) async throws -> Int64? {
        try await transaction { session in
            var wait: Int64?
            for key in keys {
                let rows = try await session.query("SELECT at FROM login_failures WHERE key_hash = $1 AND at > $2 ORDER BY at",
                                                   .text(OpaqueToken.digest(key)), .int(now - windowMillis))
                if rows.count >= limit, let oldest = rows.first?.int("at") { wait = max(wait ?? 0, oldest + windowMillis - now) }
            }
            return wait
        }
    }

    /// Records a failed sign-in under each key, and prunes failures older than the window.
    public func recordLoginFailure(keys: [String], now: Int64, windowMillis: Int64) async throws {
        try await transaction { session in
            try await session.execute("DELETE FROM login_failures WHERE at <= $1", .int(now - windowMillis))
            for key in keys {
                try await session.execute("INSERT INTO login_failures (key_hash, at) VALUES ($1, $2)", .text(OpaqueToken.digest(key)), .int(now))
            }
        }
    }

    /// Forgets the failures of a key (a successful sign-in clears the account's count).
    public func clearLoginFailures(key: String) async throws {
        try await transaction { try await $0.execute("DELETE FROM login_failures WHERE key_hash = $1", .text(OpaqueToken.digest(key))) }
    }
}

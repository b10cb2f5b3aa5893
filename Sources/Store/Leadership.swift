import Foundation
import Glibc
import PostgresNIO

extension MetadataStore {
    /// The advisory-lock key of the scheduling role.
    static let schedulerLockKey: Int64 = 7_243_016

    /// Runs `body` while this process holds the scheduling role, and returns true; returns false at once when
    /// another process holds it. `stillLeader` tells the body whether the role is still held (the lock's
    /// connection is alive); the role is released when `body` returns or throws.
    ///
    /// PostgreSQL store: a session advisory lock on a connection kept for the purpose, so the role passes to
    /// another server as soon as the holder's connection closes (process killed, network lost).
    /// SQLite store: an exclusive `flock` on a file beside the database (one process per data directory schedules).
    public func whileLeader(_ body: @Sendable (_ stillLeader: @Sendable () async -> Bool) async throws -> Void) async throws -> Bool {
        if let postgres = database as? PostgresStoreDatabase {
            return try await postgres.withConnection { connection in
                let rows = try await connection.query("SELECT pg_try_advisory_lock(\(Self.schedulerLockKey)) AS held", logger: PostgresStoreDatabase.logger)
                var held = false
                for try await value in rows.decode(Bool.self) { held = value }
                guard held else { return false }
                do {
                    try await body {
                        (try? await connection.query("SELECT 1", logger: PostgresStoreDatabase.logger).collect()) != nil
                    }
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.schedulerLockKey))", logger: PostgresStoreDatabase.logger).collect()
                    throw error
                }
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.schedulerLockKey))", logger: PostgresStoreDatabase.logger).collect()
                return true
            }
        }
        let path = ((database as? SQLiteStoreDatabase)?.path ?? NSTemporaryDirectory() + "/sluice") + ".scheduler-lock"
        let descriptor = Glibc.open(path, O_CREAT | O_RDWR, 0o600)
        guard descriptor >= 0 else { throw StoreError(.unavailable, "cannot open the scheduler lock file \(path)") }
        defer { Glibc.close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return false }
        defer { flock(descriptor, LOCK_UN) }
        try await body { true }
        return true
    }
}

import Foundation

/// Sluice's metadata: users, tokens, the vault record, connections, pipelines and revisions, runs, audit log.
///
/// A thin typed layer over `StoreDatabase`; each resource lives in its own `MetadataStore+….swift` file.
/// The clock is injected so lease and token expiry are testable without sleeping.
public struct MetadataStore: Sendable {
    public let database: any StoreDatabase
    /// Unix milliseconds now.
    public let now: @Sendable () -> Int64
    /// Where the store lives, when it was opened from a location (connections must never lead back to it).
    public let location: StoreLocation?
    /// Told how long each transaction took (the server's store latency metric); nil tells nobody.
    public var onTransaction: (@Sendable (Duration) -> Void)?

    public init(database: any StoreDatabase, now: @escaping @Sendable () -> Int64 = MetadataStore.systemNow, location: StoreLocation? = nil) {
        self.database = database
        self.now = now
        self.location = location
    }

    /// Opens the store at `location` and migrates it to the current schema.
    public static func open(_ location: StoreLocation, now: @escaping @Sendable () -> Int64 = MetadataStore.systemNow) async throws -> MetadataStore {
        let store = MetadataStore(database: try await location.open(), now: now, location: location)
        try await Migrations.run(on: store.database, now: now())
        return store
    }

    public static let systemNow: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    public static func newID() -> String { UUID().uuidString.lowercased() }

    @discardableResult
    public func transaction<T: Sendable>(_ body: @Sendable (any StoreSession) async throws -> T) async throws -> T {
        guard let onTransaction else { return try await database.transaction(body) }
        let started = ContinuousClock.now
        defer { onTransaction(ContinuousClock.now - started) }
        return try await database.transaction(body)
    }

    /// A value from the store's key/value settings (server signing key, setup token hash, …).
    public func setting(_ key: String) async throws -> String? {
        try await transaction { try await $0.first("SELECT value FROM store_settings WHERE key = $1", .text(key))?.text("value") }
    }

    public func setSetting(_ key: String, _ value: String?) async throws {
        try await transaction { session in
            if let value {
                try await session.execute("INSERT INTO store_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                          .text(key), .text(value))
            } else {
                try await session.execute("DELETE FROM store_settings WHERE key = $1", .text(key))
            }
        }
    }

    /// The setting's value, created by `make` and stored if absent (first writer wins across processes).
    public func settingCreatingIfAbsent(_ key: String, make: @Sendable () -> String) async throws -> String {
        try await transaction { session in
            try await session.execute("INSERT INTO store_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", .text(key), .text(make()))
            return try await session.first("SELECT value FROM store_settings WHERE key = $1", .text(key))?.text("value") ?? ""
        }
    }
}

import Foundation
import SluiceTestSupport
import Store
import Synchronization
import Testing

/// The two store backends every store test runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A settable clock in Unix milliseconds, so leases and token expiry are tested without sleeping.
final class ManualClock: Sendable {
    private let value = Mutex<Int64>(1_700_000_000_000)
    var now: @Sendable () -> Int64 { { self.value.withLock { $0 } } }
    func advance(millis: Int64) { value.withLock { $0 += millis } }
}

/// Opens a fresh, migrated store on `backend`: a temp SQLite file or a new database on the test cluster.
func makeStore(_ backend: Backend, clock: ManualClock = ManualClock()) async throws -> MetadataStore {
    try await MetadataStore.open(try location(backend), now: clock.now)
}

func location(_ backend: Backend) throws -> StoreLocation {
    switch backend {
    case .sqlite:
        return .sqlite(path: try TemporaryDirectory().file("store.db"))
    case .postgres:
        let database = try PostgresTestServer.createDatabase()
        return try StoreLocation.parse("postgres://postgres@127.0.0.1:\(try PostgresTestServer.port)/\(database)")
    }
}

func makeUser(_ store: MetadataStore, _ name: String, role: User.Role = .member) async throws -> User {
    try await store.createUser(name: name, role: role, passwordHash: "hash-of-\(name)")
}

/// Runs `body` with a fresh store and closes it afterwards, also when the body throws.
func withStore(_ backend: Backend, clock: ManualClock = ManualClock(), _ body: (MetadataStore) async throws -> Void) async throws {
    let store = try await makeStore(backend, clock: clock)
    do {
        try await body(store)
    } catch {
        await store.database.close()
        throw error
    }
    await store.database.close()
}

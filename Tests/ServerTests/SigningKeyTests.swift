import Foundation
import HTTPTypes
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// The access-token signing key lives in a 0600 file, not in the store: nothing in a fresh store's tables
/// reveals it or a connection secret; a key an older version kept in the store moves to the file; rotating
/// it ends every session.
@Suite struct SigningKeyTests {
    static let secret = "connection-secret-Qx81!"

    @Test func noTableOfTheStoreHoldsTheSigningKeyOrAConnectionSecret() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let created = try await client.call(.post, "/api/v1/connections", token: root, json: .object([
                "name": .string("wh"), "type": .string("postgres"),
                "settings": .object(["host": .string("127.0.0.1"), "database": .string("db"), "user": .string("u")]),
                "secrets": .object(["password": .string(Self.secret)]),
            ]))
            #expect(created.status == .created, "\(created.text)")
        }
        let keyFile = harness.state.configuration.signingKeyFile
        let key = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        // Every text value of every table, and the raw bytes of the database and its journal.
        let tables = try await harness.state.store.transaction { session in
            try await session.query("SELECT name FROM sqlite_master WHERE type = 'table'").map { $0.string("name") }
        }
        for table in tables {
            let rows = try await harness.state.store.transaction { try await $0.query("SELECT * FROM \"\(table)\"") }
            let text = rows.map { "\($0)" }.joined()
            #expect(!text.contains(key) && !text.contains(Self.secret), "table \(table) holds the key or the secret")
        }
        for file in [harness.directory.path + "/sluice.db", harness.directory.path + "/sluice.db-wal"] {
            guard let bytes = FileManager.default.contents(atPath: file) else { continue }
            #expect(bytes.range(of: Data(key.utf8)) == nil && bytes.range(of: Data(Self.secret.utf8)) == nil, "\(file) holds the key or the secret")
        }
    }

    @Test func aKeyKeptInTheStoreByAnOlderVersionMovesToTheFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = ServerConfiguration(dataDirectory: directory.path, port: 0, workers: 0)
        let old = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let store = try await MetadataStore.open(configuration.store)
        try await store.setSetting("jwt_signing_key", old)
        await store.database.close()

        let state = try await ServerState.open(configuration)
        #expect(try String(contentsOfFile: configuration.signingKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == old)
        #expect(try await state.store.setting("jwt_signing_key") == nil)
        await state.close()
    }

    @Test func rotatingTheKeyEndsEverySession() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        let before = try String(contentsOfFile: harness.state.configuration.signingKeyFile, encoding: .utf8)
        try await harness.withClient { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: mia).status == .ok)
            let message = try await SluiceServer.rotateSigningKey(harness.state.configuration)
            #expect(message.contains("1 session(s) ended") || message.contains("session(s) ended"), "\(message)")
            #expect(try await client.call(.get, "/api/v1/auth/me", token: mia).status == .unauthorized)
        }
        #expect(try String(contentsOfFile: harness.state.configuration.signingKeyFile, encoding: .utf8) != before)
        // A server started after the rotation refuses tokens signed with the old key.
        let restarted = try await ServerState.open(harness.state.configuration)
        let (_, family) = try await restarted.store.issueRefreshToken(userID: harness.member.id, lifetimeMillis: 60_000)
        let oldToken = try await harness.state.authenticator.accessToken(for: harness.member, session: family)
        await #expect(throws: (any Error).self) { _ = try await restarted.authenticator.authenticate(token: oldToken) }
        #expect(try await restarted.authenticator.authenticate(token: try await restarted.authenticator.accessToken(for: harness.member, session: family)).id == harness.member.id)
        await restarted.close()
    }
}

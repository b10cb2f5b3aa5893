import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// Accounts as an attacker with a member account would probe them: look-alike names, long passwords,
/// a changed password or a disabled account that leaves tokens alive, looking other users up, and the
/// store's own files and database.
@Suite struct AccountSecurityTests {
    @Test func namesThatDifferOnlyInCaseOrLookAlikeLettersCannotCoexist() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            for name in ["ROOT", "r\u{043E}\u{043E}t", "Mia", "ｍｉａ"] {   // Cyrillic о, fullwidth letters
                let created = try await client.call(.post, "/api/v1/users", token: root,
                                                    json: .object(["name": .string(name), "password": .string("a long password 1"), "role": .string("admin")]))
                #expect(created.status == .conflict, "\(name): \(created.text)")
            }
            // Signing in ignores case too.
            let login = try await client.call(.post, "/api/v1/auth/login", json: .object(["username": .string("MIA"), "password": .string(ServerHarness.memberPassword)]))
            #expect(login.status == .ok, "\(login.text)")
        }
    }

    @Test func passwordsPastBcryptsLimitAreRefusedAndNeverSignIn() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let long = String(repeating: "p", count: 73)
            let refused = try await client.call(.post, "/api/v1/users", token: root,
                                                json: .object(["name": .string("lena"), "password": .string(long), "role": .string("member")]))
            #expect(refused.status == .badRequest && refused.body["error"]?["field"] == .string("password"), "\(refused.text)")
            let exact = String(repeating: "p", count: 72)
            let created = try await client.call(.post, "/api/v1/users", token: root,
                                                json: .object(["name": .string("lena"), "password": .string(exact), "role": .string("member")]))
            #expect(created.status == .created, "\(created.text)")
            // bcrypt would accept anything that starts with the 72 bytes; the server does not.
            let longer = try await client.call(.post, "/api/v1/auth/login", json: .object(["username": .string("lena"), "password": .string(exact + "anything")]))
            #expect(longer.status == .unauthorized, "\(longer.text)")
        }
    }

    @Test func changingYourPasswordOrBeingDisabledRevokesSessionsAndAPITokens() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let apiToken = try #require(try await client.call(.post, "/api/v1/tokens", token: mia, json: .object(["name": .string("ci")])).body["token"]?.stringValue)
            let wrong = try await client.call(.post, "/api/v1/auth/password", token: mia,
                                              json: .object(["current_password": .string("not it at all"), "new_password": .string("a new password 2")]))
            #expect(wrong.status == .forbidden, "\(wrong.text)")
            let changed = try await client.call(.post, "/api/v1/auth/password", token: mia,
                                                json: .object(["current_password": .string(ServerHarness.memberPassword), "new_password": .string("a new password 2")]))
            #expect(changed.status == .ok, "\(changed.text)")
            let fresh = try #require(changed.body["access_token"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: mia).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: apiToken).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: fresh).status == .ok)
            _ = try await client.login("mia", "a new password 2")

            // An admin disabling an account revokes its API tokens as well.
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let second = try #require(try await client.call(.post, "/api/v1/tokens", token: fresh, json: .object(["name": .string("ci2")])).body["token"]?.stringValue)
            let disabled = try await client.call(.patch, "/api/v1/users/\(harness.member.id)", token: root, json: .object(["disabled": .bool(true)]))
            #expect(disabled.status == .ok, "\(disabled.text)")
            _ = try await client.call(.patch, "/api/v1/users/\(harness.member.id)", token: root, json: .object(["disabled": .bool(false)]))
            #expect(try await client.call(.get, "/api/v1/auth/me", token: second).status == .unauthorized, "a re-enabled account's old token still worked")
            let audit = try await client.call(.get, "/api/v1/audit", token: root)
            #expect(audit.text.contains("password_change_refused") && audit.text.contains("password_changed"))
        }
    }

    @Test func membersLookUpUsersByNameWithoutRoles() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let found = try await client.call(.get, "/api/v1/users/lookup?q=RO", token: mia)
            #expect(found.status == .ok, "\(found.text)")
            #expect(found.body == .array([.object(["id": .string(harness.admin.id), "name": .string("root")])]), "\(found.text)")
            #expect(try await client.call(.get, "/api/v1/users/lookup", token: mia).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/users/lookup?q=ro").status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/users", token: mia).status == .forbidden)
        }
    }

    @Test func theDataDirectoryAndStoreAreReadableByThisAccountOnly() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        let directory = try FileManager.default.attributesOfItem(atPath: harness.directory.path)[.posixPermissions] as? NSNumber
        let store = try FileManager.default.attributesOfItem(atPath: harness.directory.path + "/sluice.db")[.posixPermissions] as? NSNumber
        #expect(directory?.intValue == 0o700)
        #expect(store?.intValue == 0o600)
    }

    @Test func aConnectionToThePostgreSQLStoreIsRefused() async throws {
        let database = try PostgresTestServer.createDatabase()
        let location = try StoreLocation.parse("postgres://postgres@127.0.0.1:\(try PostgresTestServer.port)/\(database)")
        let harness = try await ServerHarness.make(store: location)
        defer { Task { await harness.close() } }
        try await harness.withClient { client in
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/connections", token: mia, json: .object([
                "name": .string("meta"), "type": .string("postgres"),
                "settings": .object(["host": .string("localhost"), "port": .int(Int64(try PostgresTestServer.port)), "database": .string(database),
                                     "user": .string("postgres"), "sslmode": .string("disable")]),
            ]))
            #expect(created.status == .created, "\(created.text)")
            let document = """
            apiVersion: sluice/v1
            name: steal
            nodes:
              - {id: src, type: postgres.read, settings: {connection: meta, query: "SELECT * FROM store_settings"}}
            edges: []
            """
            let preview = try await client.call(.post, "/api/v1/pipelines/preview", token: mia, json: .object(["document": .string(document), "node": .string("src")]))
            #expect(preview.status == .unprocessableContent && preview.body["error"]?["code"] == .string("store_unreachable"), "\(preview.text)")
            #expect(!preview.text.contains("jwt_signing_key"))
            let id = try #require(created.body["id"]?.stringValue)
            let discover = try await client.call(.get, "/api/v1/connections/\(id)/discover", token: mia)
            #expect(discover.status == .unprocessableContent && discover.body["error"]?["code"] == .string("store_unreachable"), "\(discover.text)")
        }
    }

    @Test func everyServerProcessOfAStoreSharesTheLoginThrottle() async throws {
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        // A second server process on the same store (and key file), as behind a load balancer.
        let other = try await ServerState.open(harness.state.configuration)
        defer { Task { await other.close() } }
        try await harness.withClient { client in
            for _ in 0..<5 {
                let failed = try await client.call(.post, "/api/v1/auth/login", json: .object(["username": .string("mia"), "password": .string("wrong password!")]))
                #expect(failed.status == .unauthorized)
            }
        }
        let app = Application(router: APIRouter.router(other))
        try await app.test(.router) { client in
            let body = ByteBuffer(string: #"{"username": "MIA", "password": "mia-password-1"}"#)
            try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: body) { response in
                #expect(response.status == .tooManyRequests, "the other process did not see the failures: \(response.status)")
            }
        }
    }
}

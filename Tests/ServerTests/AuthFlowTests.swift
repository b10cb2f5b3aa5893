import Foundation
import HTTPTypes
@testable import Server
import Store
import Testing

@Suite("Auth flows")
struct AuthFlowTests {
    @Test
    func setupTokenCreatesTheFirstAdminOnce() async throws {
        let harness = try await ServerHarness.make(withUsers: false)
        let token = try #require(try await SluiceServer.prepareSetup(harness.state))
        try await harness.withClient { client in
            #expect(try await client.call(.get, "/api/v1/setup").body["needs_setup"] == .bool(true))
            let wrong = try await client.call(.post, "/api/v1/setup", json: .object(["token": .string("sls_wrong"), "username": .string("ada"),
                                                                                      "password": .string("ada-password-1"), "master_password": .string("master password 12")]))
            #expect(wrong.status == .forbidden)
            let body = JSONValue.object(["token": .string(token), "username": .string("ada"), "password": .string("ada-password-1"), "master_password": .string("master password 12")])
            #expect(try await client.call(.post, "/api/v1/setup", json: body).status == .created)
            #expect(try await client.call(.post, "/api/v1/setup", json: body).status == .forbidden) // one time only
            #expect(try await client.call(.get, "/api/v1/vault").status == .unauthorized)
            let login = try await client.call(.post, "/api/v1/auth/login", json: .object(["username": .string("ada"), "password": .string("ada-password-1")]))
            #expect(login.status == .ok && login.body["expires_in"] == .int(900))
        }
        await harness.close()
    }

    @Test
    func refreshRotatesReuseRevokesAndLogoutEndsTheSession() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withClient { client in
            let (access, refresh) = try await client.login("root", ServerHarness.adminPassword)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: access).body["name"] == .string("root"))
            let rotated = try await client.call(.post, "/api/v1/auth/refresh", json: .object(["refresh_token": .string(refresh)]))
            #expect(rotated.status == .ok)
            let newAccess = try #require(rotated.body["access_token"]?.stringValue), newRefresh = try #require(rotated.body["refresh_token"]?.stringValue)
            #expect(newRefresh != refresh)
            // Replaying the spent token revokes the family: the new pair dies too.
            let replay = try await client.call(.post, "/api/v1/auth/refresh", json: .object(["refresh_token": .string(refresh)]))
            #expect(replay.status == .unauthorized && replay.body["error"]?["code"] == .string("refresh_token_reused"))
            #expect(try await client.call(.post, "/api/v1/auth/refresh", json: .object(["refresh_token": .string(newRefresh)])).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: newAccess).body["error"]?["code"] == .string("session_revoked"))

            let (second, _) = try await client.login("root", ServerHarness.adminPassword)
            #expect(try await client.call(.post, "/api/v1/auth/logout", token: second).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: second).status == .unauthorized)
            let audit = try await harness.state.store.auditLog(limit: 50).map(\.action)
            #expect(audit.contains("login") && audit.contains("logout") && audit.contains("refresh_token_reuse"))
        }
        await harness.close()
    }

    @Test
    func apiTokensAreShownOnceAndRevocable() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withClient { client in
            let (access, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/tokens", token: access, json: .object(["name": .string("ci")]))
            #expect(created.status == .created)
            let token = try #require(created.body["token"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: token).body["name"] == .string("mia"))
            let listed = try await client.call(.get, "/api/v1/tokens", token: access)
            #expect(!listed.text.contains(token) && listed.text.contains("\"ci\""))
            let id = try #require(created.body["id"]?.stringValue)
            #expect(try await client.call(.delete, "/api/v1/tokens/\(id)", token: access).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: token).status == .unauthorized)
        }
        await harness.close()
    }

    @Test
    func failedLoginsAreThrottledPerAccount() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withClient { client in
            for _ in 0..<5 {
                let reply = try await client.call(.post, "/api/v1/auth/login", json: .object(["username": .string("mia"), "password": .string("wrong-password")]))
                #expect(reply.status == .unauthorized && reply.body["error"]?["code"] == .string("invalid_credentials"))
            }
            // Even the right password is refused while the account is throttled.
            let blocked = try await client.call(.post, "/api/v1/auth/login", json: .object(["username": .string("mia"), "password": .string(ServerHarness.memberPassword)]))
            #expect(blocked.status == .tooManyRequests && blocked.body["error"]?["code"] == .string("too_many_attempts"))
            #expect(try await harness.state.store.auditLog(limit: 20, action: "login_failed").count == 5)
        }
        await harness.close()
    }
}


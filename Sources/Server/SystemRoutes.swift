import BuiltinNodes
import Foundation
import Scheduler
import HummingbirdBcrypt
import NodeKit
import Prometheus
import Store

/// Health, readiness, metrics, the node-type catalog, and first-start setup.
enum SystemRoutes {
    struct Health: Codable { var status: String }
    struct Readiness: Codable { var status: String; var store: String; var vault: String }
    struct SetupStatus: Codable { var needsSetup: Bool; var vault: String }
    struct SetupRequest: Codable { var token: String; var username: String; var password: String; var masterPassword: String }

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/healthz", "health", "Liveness: the process answers.", tag: "system", access: .anyone,
                 response: APISchema.object(["status": APISchema.string])) { _ in try .json(Health(status: "ok")) },
        Endpoint(.get, "/readyz", "readiness", "Readiness: the metadata store answers (503 when it does not).", tag: "system", access: .anyone,
                 response: APISchema.object(["status": APISchema.string, "store": APISchema.string, "vault": APISchema.string])) { call in
            do {
                let vault = try await call.state.vault.status()
                return try .json(Readiness(status: "ready", store: "ok", vault: vault.rawValue))
            } catch {
                throw APIError(.serviceUnavailable, "not_ready", "the metadata store does not answer")
            }
        },
        Endpoint(.get, "/metrics", "metrics", "Prometheus metrics (text exposition format).", tag: "system", access: .anyone,
                 response: APISchema.string, contentType: "text/plain; version=0.0.4") { call in
            var buffer: [UInt8] = []
            call.state.metrics.emit(into: &buffer)
            return APIReply(status: .ok, contentType: "text/plain; version=0.0.4", body: Data(buffer))
        },
        Endpoint(.get, "/api/v1/setup", "getSetup", "Whether the server still needs its first admin.", tag: "system", access: .anyone,
                 response: APISchema.object(["needs_setup": APISchema.boolean, "vault": APISchema.enumeration(["uninitialized", "locked", "unlocked"])])) { call in
            try .json(SetupStatus(needsSetup: try await call.state.store.userCount() == 0, vault: try await call.state.vault.status().rawValue))
        },
        Endpoint(.post, "/api/v1/setup", "setup", "Creates the first admin and the vault with the one-time setup token printed at first start.",
                 tag: "system", access: .anyone,
                 request: APISchema.object(["token": APISchema.string, "username": APISchema.string, "password": APISchema.string, "master_password": APISchema.string]),
                 status: .created, response: APISchema.ref("User")) { call in
            let input = try call.decode(SetupRequest.self)
            let state = call.state
            guard let digest = try await state.store.setting("setup_token"), digest == OpaqueToken.digest(input.token),
                  try await state.store.userCount() == 0 else {
                throw APIError(.forbidden, "invalid_setup_token", "the setup token is wrong or was already used")
            }
            try UserRoutes.checkPassword(input.password)
            try UserRoutes.checkName(input.username)
            if try await state.vault.status() == .uninitialized { try await state.vault.initialize(password: input.masterPassword) }
            let user = try await state.store.createUser(name: input.username, role: .admin, passwordHash: Bcrypt.hash(input.password, cost: state.configuration.bcryptCost))
            try await state.store.setSetting("setup_token", nil)
            try await state.store.audit(actor: user.name, action: "setup", target: user.name, address: call.address)
            return try .json(UserRoutes.UserView(user), status: .created)
        },
        Endpoint(.get, "/api/v1/node-types", "listNodeTypes", "The node type catalog (specs drive the editor's forms).", tag: "system",
                 response: APISchema.array(APISchema.anyObject)) { _ in
            APIReply(status: .ok, contentType: "application/json", body: Data(NodeCatalog.json(BuiltinNodes.registry.specs).utf8))
        },
        Endpoint(.get, "/api/v1/trigger-kinds", "listTriggerKinds", "Trigger kinds and their settings fields, for trigger forms.",
                 tag: "triggers", response: APISchema.array(APISchema.anyObject)) { _ in
            let kinds = TriggerKinds.all.map { kind in
                JSONValue.object(["kind": .string(kind.name), "summary": .string(kind.summary), "fields": JSONValue.parse(NodeCatalog.fieldsJSON(kind.fields)) ?? .array([])])
            }
            return try .json(kinds)
        },
        Endpoint(.get, "/api/v1/connection-types", "listConnectionTypes", "Connection types and their fields (secret fields marked), for connection forms.",
                 tag: "system", response: APISchema.array(APISchema.anyObject)) { _ in
            APIReply(status: .ok, contentType: "application/json", body: Data(NodeCatalog.connectionTypesJSON(BuiltinNodes.connectors.specs).utf8))
        },
    ]
}

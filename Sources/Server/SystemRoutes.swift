import BuiltinNodes
import Expressions
import Foundation
import Scheduler
import NodeKit
import Prometheus
import Services
import Store

/// Health, readiness, metrics, the node-type catalog, and first-start setup.
enum SystemRoutes {
    /// The process answers.
    struct Health: APIView { var status: String }
    /// The store answers; the vault's state.
    struct Readiness: APIView { var status: String; var store: String; var vault: Vault.Status }
    /// Whether the server still needs its first admin, and the vault's state.
    struct SetupStatus: APIView { var needsSetup: Bool; var vault: Vault.Status }
    /// One function of the expression language.
    struct FunctionView: APIView { var name: String; var summary: String; var minArguments: Int; var maxArguments: Int }
    struct SetupRequest: Codable { var token: String; var username: String; var password: String; var masterPassword: String }

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/healthz", "health", "Liveness: the process answers.", tag: "system", access: .anyone,
                 response: Health.schema) { _ in try .json(Health(status: "ok")) },
        Endpoint(.get, "/readyz", "readiness", "Readiness: the metadata store answers (503 when it does not).", tag: "system", access: .anyone,
                 response: Readiness.schema) { call in
            do {
                let vault = try await call.services.vault.status()
                return try .json(Readiness(status: "ready", store: "ok", vault: vault))
            } catch {
                throw APIError(.serviceUnavailable, "not_ready", "the metadata store does not answer")
            }
        },
        Endpoint(.get, "/metrics", "metrics", "Prometheus metrics (text exposition format).", tag: "system", access: .anyone,
                 response: APISchema.string, contentType: "text/plain; version=0.0.4") { call in
            await call.state.refreshMetrics()
            var buffer: [UInt8] = []
            call.state.metrics.emit(into: &buffer)
            return APIReply(status: .ok, contentType: "text/plain; version=0.0.4", body: Data(buffer))
        },
        Endpoint(.get, "/api/v1/setup", "getSetup", "Whether the server still needs its first admin.", tag: "system", access: .anyone,
                 response: SetupStatus.schema) { call in
            try .json(SetupStatus(needsSetup: try await call.services.users.needsSetup(), vault: try await call.services.vault.status()))
        },
        Endpoint(.post, "/api/v1/setup", "setup", "Creates the first admin and the vault with the one-time setup token printed at first start.",
                 tag: "system", access: .anyone,
                 request: APISchema.of(SetupRequest.self),
                 status: .created, response: APISchema.ref("User")) { call in
            let input = try call.decode(SetupRequest.self)
            let user = try await call.services.users.setup(token: input.token, name: input.username, password: input.password,
                                                           masterPassword: input.masterPassword, address: call.address)
            return try .json(UserRoutes.UserView(user), status: .created)
        },
        Endpoint(.get, "/api/v1/node-types", "listNodeTypes", "The node type catalog (specs drive the editor's forms).", tag: "system",
                 response: APISchema.array(APISchema.anyObject)) { _ in
            APIReply(status: .ok, contentType: "application/json", body: Data(NodeCatalog.json(BuiltinNodes.registry.specs).utf8))
        },
        Endpoint(.get, "/api/v1/expression-functions", "listExpressionFunctions", "The expression language's functions (the editor completes them).",
                 tag: "system", response: APISchema.array(FunctionView.schema)) { _ in
            try .json(ExpressionFunctions.all.map { FunctionView(name: $0.name, summary: $0.summary, minArguments: $0.minArguments, maxArguments: $0.maxArguments) })
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
            APIReply(status: .ok, contentType: "application/json", body: Data(NodeCatalog.connectionTypesJSON(BuiltinNodes.connectors).utf8))
        },
    ]
}

import BuiltinNodes
import Foundation
import NodeKit
import Runtime
import Store
import Workers

/// A pipeline's incremental state, as committed in its destinations (`sluice_state`): view it, and reset a
/// source's state so its next run reads everything again ("re-sync this table").
enum StateRoutes {
    struct StateView: Encodable, APIView {
        static let schema = APISchema.object(["node": APISchema.string, "store": APISchema.string, "state": APISchema.nullable(APISchema.anyObject)], optional: ["state"])

        var node: String
        /// The sink whose destination holds this state.
        var store: String
        /// The committed state (the source's cursor), or null when nothing was committed yet.
        var state: JSONValue?
    }
    struct ResetView: Encodable { var node: String; var resetIn: [String] }


    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/pipelines/{id}/state", "pipelineState",
                 "The incremental state of each source of the current revision, read from the destinations that commit it.", tag: "pipelines",
                 response: APISchema.array(StateView.schema), errors: [.badGateway]) { call in
            let pipeline = try await call.state.requireRole(.viewer, on: call.parameter("id"), for: try call.caller)
            let (plan, stores) = try await statefulSources(pipeline, call.state, as: try call.caller)
            var views: [StateView] = []
            for (node, sinks) in stores.sorted(by: { $0.key < $1.key }) {
                for (sink, store) in sinks {
                    let value = try await read { try await store.committedState(pipeline: plan.document.name, node: node) }
                    views.append(StateView(node: node, store: sink, state: value.map { JSONValue.parse($0) ?? .string($0) }))
                }
            }
            return try .json(views)
        },
        Endpoint(.delete, "/api/v1/pipelines/{id}/state/{node}", "resetPipelineState",
                 "Forgets a source's committed state in every destination: its next run reads from the beginning. Editors only.", tag: "pipelines",
                 response: APISchema.object(["node": APISchema.string, "reset_in": APISchema.array(APISchema.string)]), errors: [.badGateway]) { call in
            let user = try call.caller
            let pipeline = try await call.state.requireRole(.editor, on: call.parameter("id"), for: user)
            let (plan, stores) = try await statefulSources(pipeline, call.state, as: try call.caller)
            let node = call.parameter("node")
            guard let sinks = stores[node] else { throw APIError.notFound("a source '\(node)' with committed state in this pipeline") }
            var reset: [String] = []
            for (sink, store) in sinks where try await read({ try await store.resetState(pipeline: plan.document.name, node: node) }) {
                reset.append(sink)
            }
            try await call.state.store.audit(actor: user.name, action: "state_reset", target: "\(pipeline.name)/\(node)",
                                             detail: reset.isEmpty ? "nothing was committed" : "reset in \(reset.joined(separator: ", "))", address: call.address)
            return try .json(ResetView(node: node, resetIn: reset))
        },
    ]

    /// Plans the current revision (parameters at their defaults) and returns its sources with state stores downstream.
    static func statefulSources(_ pipeline: PipelineRecord, _ state: ServerState, as user: User) async throws -> (ExecutionPlan, [String: [(sink: String, store: any StateStore)]]) {
        guard let revision = try await state.store.revision(pipelineID: pipeline.id, revision: pipeline.currentRevision) else {
            throw APIError.notFound("revision \(pipeline.currentRevision)")
        }
        let document = try PipelineDocument.parse(revision.document, file: "revision \(revision.revision)")
        let plan = try await state.plan(document, as: user)
        let sources = Set(plan.nodes.filter(\.isSource).map(\.id))
        return (plan, plan.stateStores().filter { sources.contains($0.key) })
    }

    /// A destination that cannot be reached is a 502 naming it, not a 500.
    static func read<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as NodeError {
            throw APIError(.badGateway, error.code, error.message)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badGateway, "destination_unreachable", "cannot read the destination: \(error)")
        }
    }
}

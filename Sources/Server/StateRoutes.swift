import Foundation
import Services
import Store

/// A pipeline's incremental state, as committed in its destinations (`sluice_state`): view it, and reset a
/// source's state so its next run reads everything again ("re-sync this table").
enum StateRoutes {
    /// One source's state in one destination.
    struct StateView: APIView {
        var node: String
        /// The sink whose destination holds this state.
        var store: String
        /// The committed state (the source's cursor), or null when nothing was committed yet.
        var state: JSONValue?
    }
    /// Where a source's state was forgotten.
    struct ResetView: APIView { var node: String; var resetIn: [String] }


    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/pipelines/{id}/state", "pipelineState",
                 "The incremental state of each source of the current revision, read from the destinations that commit it.", tag: "pipelines",
                 response: APISchema.array(StateView.schema), errors: [.badGateway]) { call in
            let states = try await call.services.pipelines.committedStates(call.parameter("id"), for: try call.caller)
            return try .json(states.map { StateView(node: $0.node, store: $0.sink, state: $0.state.map { JSONValue.parse($0) ?? .string($0) }) })
        },
        Endpoint(.delete, "/api/v1/pipelines/{id}/state/{node}", "resetPipelineState",
                 "Forgets a source's committed state in every destination: its next run reads from the beginning. Editors only.", tag: "pipelines",
                 response: ResetView.schema, errors: [.badGateway]) { call in
            let node = call.parameter("node")
            return try .json(ResetView(node: node, resetIn: try await call.services.pipelines.resetState(call.parameter("id"), node: node, by: try call.caller)))
        },
    ]
}

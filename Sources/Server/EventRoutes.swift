import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Store

/// `GET /api/v1/events`: live run updates over a WebSocket.
///
/// The upgrade request may carry `Authorization: Bearer …`; browsers, which cannot set headers on a
/// WebSocket, send `{"type":"auth","token":"…"}` as the first message instead (within 10 seconds).
/// The protocol is in docs/server.md ("Live events").
enum EventRoutes {
    static let path = "/api/v1/events"

    /// The OpenAPI entry; a plain (non-upgrade) GET gets 426.
    static let endpoint = Endpoint(.get, path, "events",
                                   "Live run updates: upgrade to a WebSocket, then subscribe to a run, a pipeline or all visible runs (see docs/server.md).",
                                   tag: "runs", status: .switchingProtocols, response: nil, errors: [.upgradeRequired]) { _ in
        throw APIError(.upgradeRequired, "upgrade_required", "GET \(path) is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)")
    }

    /// The router consulted for upgrade requests: only the events route.
    static func webSocketRouter(_ state: ServerState) -> Router<AppContext> {
        let router = Router(context: AppContext.self)
        router.add(middleware: ErrorEnvelopeMiddleware(state: state))
        router.ws(RouterPath(path), shouldUpgrade: { request, _ in
            // A bad or expired token refuses the upgrade (401); no token means the first message authenticates.
            _ = try await state.authenticator.authenticate(request)
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            let token = Authenticator.bearerToken(context.request)
            let user = try? await state.authenticator.authenticate(context.request)
            let session = EventSession(state: state, outbound: outbound, user: user, token: token)
            state.runMetrics.websocketOpened()
            defer { state.runMetrics.websocketClosed() }
            try await session.run(inbound)
        })
        return router
    }
}

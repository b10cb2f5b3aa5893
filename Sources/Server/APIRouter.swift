import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Store

/// Builds the Hummingbird router from the endpoint table and answers every error with the error envelope.
public enum APIRouter {
    /// Every endpoint of the API, in documentation order.
    static func endpoints() -> [Endpoint] {
        SystemRoutes.endpoints + AuthRoutes.endpoints + UserRoutes.endpoints + VaultRoutes.endpoints + NotificationRoutes.endpoints + DashboardRoutes.endpoints + ConnectionRoutes.endpoints
            + PipelineRoutes.endpoints + [PreviewRoutes.endpoint, TestRoutes.endpoint] + StateRoutes.endpoints + RunRoutes.endpoints + TriggerRoutes.endpoints + [WebhookRoutes.endpoint]
            + FileRoutes.endpoints + [EventRoutes.endpoint, OpenAPIDocument.endpoint]
    }

    public static func router(_ state: ServerState) -> Router<AppContext> {
        let router = Router(context: AppContext.self)
        router.add(middleware: ErrorEnvelopeMiddleware(state: state))
        WebAssets.add(to: router)
        for endpoint in endpoints() {
            router.on(RouterPath(endpoint.routerPath), method: endpoint.method) { request, context -> Response in
                try await respond(endpoint, request: request, context: context, state: state)
            }
        }
        return router
    }

    static func respond(_ endpoint: Endpoint, request: Request, context: AppContext, state: ServerState) async throws -> Response {
        var request = request
        // Public endpoints ignore credentials: a stale access token must not block login or refresh.
        let user = endpoint.access == .anyone ? nil : try await state.authenticator.authenticate(request)
        switch endpoint.access {
        case .anyone: break
        case .user: guard user != nil else { throw APIError.unauthenticated }
        case .admin:
            guard let user else { throw APIError.unauthenticated }
            guard user.role == .admin else { throw APIError.forbidden("only admins can do this") }
        }
        let body = endpoint.requestSchema == nil || endpoint.streamsBody ? nil : try await collectBody(&request, upTo: context.maxUploadSize)
        let reply = try await endpoint.handler(APICall(request: request, context: context, body: body, user: user, state: state))
        return response(reply)
    }

    /// The whole request body, or 413 `payload_too_large` past `limit` (also before authentication: login and
    /// webhooks read bodies from anyone).
    static func collectBody(_ request: inout Request, upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "payload_too_large", "the request body is larger than \(limit / (1024 * 1024)) MB, the most this server accepts")
        }
    }

    static func response(_ reply: APIReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        for (name, value) in reply.headers { headers[name] = value }
        return Response(status: reply.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}

/// Turns any error into `{"error":{…}}` with the right status, counts requests, and never leaks internals.
struct ErrorEnvelopeMiddleware: RouterMiddleware {
    let state: ServerState

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        state.requests.increment()
        do {
            return try await next(request, context)
        } catch {
            let apiError: APIError
            if let httpError = error as? HTTPError {
                apiError = httpError.status == .notFound
                    ? APIError(.notFound, "no_route", "no such endpoint: \(request.method) \(request.uri.path); see /api/v1/openapi.json")
                    : APIError(httpError.status, "http_error", httpError.body ?? httpError.status.reasonPhrase)
            } else {
                apiError = APIError.from(error)
            }
            if apiError.status.code >= 500 {
                state.failures.increment()
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "code": "\(apiError.code)"])
            }
            var reply = APIReply(status: apiError.status, contentType: "application/json", body: Data(apiError.envelope.text.utf8))
            if apiError.status == .tooManyRequests, case let .int(seconds)? = apiError.extra["retry_after_seconds"] {
                reply.headers.append((.retryAfter, String(seconds)))
            }
            if apiError.status == .unauthorized { reply.headers.append((.wwwAuthenticate, "Bearer")) }
            return APIRouter.response(reply)
        }
    }
}

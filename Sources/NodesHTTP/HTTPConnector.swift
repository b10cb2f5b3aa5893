import Foundation
public import NodeKit

/// How requests of an `http` connection authenticate.
enum HTTPAuthKind: String, Choice { case none, basic, bearer, apiKey, oauth2 }

/// Where an API key goes.
enum APIKeyPlace: String, Choice { case header, query }

/// The `http` connector: a REST API's base URL, authentication (basic, bearer, API key, OAuth2 client
/// credentials), default headers, timeout, trusted CA, rate limit and retries. The connection test performs
/// one request and reports its status and latency.
public enum HTTPConnector: Connector {
    static let baseUrl = Field<String>("baseUrl", summary: "The API's base URL; node paths are relative to it.", example: "https://api.example.com")
    static let auth = Field<HTTPAuthKind>("auth", summary: "Authentication: none, basic (username, password), bearer (token), apiKey (apiKeyName, apiKeyIn, apiKey) or oauth2 (client credentials: tokenUrl, clientId, clientSecret, scopes).", default: HTTPAuthKind.none)
    static let username = Field<String?>("username", summary: "basic: the user name.")
    static let password = Field<String?>("password", summary: "basic: the password (a secret).")
    static let token = Field<String?>("token", summary: "bearer: the token (a secret).")
    static let apiKeyName = Field<String?>("apiKeyName", summary: "apiKey: the header or query parameter that carries the key.", example: "X-API-Key")
    static let apiKeyIn = Field<APIKeyPlace>("apiKeyIn", summary: "apiKey: send the key as a header or a query parameter.", default: .header)
    static let apiKey = Field<String?>("apiKey", summary: "apiKey: the key (a secret).")
    static let tokenUrl = Field<String?>("tokenUrl", summary: "oauth2: the token endpoint (client credentials grant).", example: "https://auth.example.com/oauth/token")
    static let clientId = Field<String?>("clientId", summary: "oauth2: the client id.")
    static let clientSecret = Field<String?>("clientSecret", summary: "oauth2: the client secret (a secret).")
    static let scopes = Field<[String]>("scopes", summary: "oauth2: scopes to ask for.", default: [])
    static let headers = Field<NamedValues<String>>("headers", summary: "Headers sent with every request.", default: NamedValues())
    static let timeout = Field<Duration>("timeout", summary: "Time allowed for one request (500ms, 30s, 2m).", default: .seconds(30))
    static let caFile = Field<String?>("caFile", summary: "A PEM file of certificate authorities to trust instead of the system's (a private CA).")
    static let rateLimit = Field<Double?>("rateLimit", summary: "At most this many requests per second (shared by the node's requests).")
    static let retries = Field<Int>("retries", summary: "Retries of a request that failed on the network or with 429, 500, 502, 503 or 504 (exponential backoff; Retry-After honoured).", default: 4)
    static let checkPath = Field<String?>("checkPath", summary: "The path the connection test requests (default: the base URL itself).", example: "/v1/health")

    public static let spec = ConnectionSpec(
        type: "http", summary: "A REST API: base URL, authentication, headers, rate limit and retries.",
        fields: [baseUrl.spec, auth.spec, username.spec, password.spec, token.spec, apiKeyName.spec, apiKeyIn.spec, apiKey.spec, tokenUrl.spec, clientId.spec,
                 clientSecret.spec, scopes.spec, headers.spec, timeout.spec, caFile.spec, rateLimit.spec, retries.spec, checkPath.spec],
        secretFields: ["password", "token", "apiKey", "clientSecret"])

    public static func check(_ connection: Connection) async throws -> ConnectionCheckResult {
        let endpoint = try HTTPEndpoint(connection)
        let session = try HTTPSession(endpoint, maxBodyBytes: 1 << 20)
        let path = try connection.fields[Self.checkPath] ?? ""
        let started = ContinuousClock.now
        let reply = try await session.send(OutgoingRequest(method: .GET, url: endpoint.url(path: path, query: [])))
        let millis = (ContinuousClock.now - started).milliseconds
        let summary = "HTTP \(reply.status) in \(millis) ms from \(endpoint.redacted(reply.url))"
        guard (200..<400).contains(reply.status) else { throw NodeError(code: "http_status", message: summary, cause: reply.excerpt) }
        return ConnectionCheckResult(message: summary)
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

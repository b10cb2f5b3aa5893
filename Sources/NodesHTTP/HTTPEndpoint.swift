import Foundation
import NodeKit

/// An `http` connection, read and checked: everything a request needs except the client.
struct HTTPEndpoint: Sendable, CustomStringConvertible {
    enum Auth: Sendable {
        case none
        case basic(user: String, password: Secret)
        case bearer(Secret)
        case apiKey(name: String, place: APIKeyPlace, key: Secret)
        case oauth2(tokenURL: String, clientID: String, secret: Secret, scopes: [String])
    }

    let name: String
    let baseURL: String
    let auth: Auth
    let headers: [(name: String, value: String)]
    let timeout: Duration
    let caFile: String?
    let rateLimit: Double?
    let retries: Int
    /// Which hosts requests may reach (the server's policy; anything for standalone runs).
    let outbound: OutboundPolicy

    /// An endpoint built by another connector (a chat webhook): its URL, no authentication beyond it.
    init(name: String, url: String, timeout: Duration = .seconds(30), retries: Int = 4, outbound: OutboundPolicy) {
        self.name = name
        baseURL = url
        auth = .none
        headers = []
        self.timeout = timeout
        caFile = nil
        rateLimit = nil
        self.retries = retries
        self.outbound = outbound
    }

    init(_ connection: Connection) throws(ConfigError) {
        let fields = connection.fields
        name = connection.name
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(code: "invalid_value", message: message, location: connection.location, node: "connection '\(connection.name)'", field: field)
        }
        var base = try fields[HTTPConnector.baseUrl]
        guard let url = URL(string: base), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw fail("baseUrl", "'\(base)' is not an http or https URL")
        }
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        func secret(_ field: String, for kind: HTTPAuthKind) throws(ConfigError) -> Secret {
            guard let value = connection.secrets[field], !value.reveal().isEmpty else {
                throw ConfigError(code: "missing_field", message: "\(kind.rawValue) authentication needs the secret '\(field)'", location: connection.location,
                                  node: "connection '\(connection.name)'", field: field)
            }
            return value
        }
        func text(_ field: Field<String?>, for kind: HTTPAuthKind) throws(ConfigError) -> String {
            guard let value = try fields[field], !value.isEmpty else {
                throw ConfigError(code: "missing_field", message: "\(kind.rawValue) authentication needs '\(field.name)'", location: connection.location,
                                  node: "connection '\(connection.name)'", field: field.name)
            }
            return value
        }
        let kind = try fields[HTTPConnector.auth]
        switch kind {
        case .none: auth = .none
        case .basic: auth = .basic(user: try text(HTTPConnector.username, for: kind), password: try secret("password", for: kind))
        case .bearer: auth = .bearer(try secret("token", for: kind))
        case .apiKey: auth = .apiKey(name: try text(HTTPConnector.apiKeyName, for: kind), place: try fields[HTTPConnector.apiKeyIn], key: try secret("apiKey", for: kind))
        case .oauth2:
            let tokenURL = try text(HTTPConnector.tokenUrl, for: kind)
            guard URL(string: tokenURL)?.host != nil else { throw fail("tokenUrl", "'\(tokenURL)' is not an absolute URL") }
            auth = .oauth2(tokenURL: tokenURL, clientID: try text(HTTPConnector.clientId, for: kind), secret: try secret("clientSecret", for: kind),
                           scopes: try fields[HTTPConnector.scopes])
        }
        headers = try fields[HTTPConnector.headers].entries.map { ($0.name, $0.value) }
        timeout = try fields[HTTPConnector.timeout]
        guard timeout > .zero, timeout <= .seconds(3600) else { throw fail("timeout", "timeout must be more than 0 and at most 1h") }
        if let ca = try fields[HTTPConnector.caFile] {
            do { caFile = try connection.files.resolve(ca) } catch { throw error.at(node: "connection '\(connection.name)'", field: "caFile") }
        } else {
            caFile = nil
        }
        rateLimit = try fields[HTTPConnector.rateLimit]
        if let rateLimit, !(rateLimit > 0 && rateLimit <= 10_000) { throw fail("rateLimit", "rateLimit is requests per second: more than 0, at most 10000") }
        retries = try fields[HTTPConnector.retries]
        guard (0...20).contains(retries) else { throw fail("retries", "retries must be 0 to 20") }
        outbound = connection.outbound
    }

    var description: String { "connection '\(name)' (\(baseURL))" }

    /// `path` appended to the base URL (an absolute URL is taken as is), with `query` added.
    func url(path: String, query: [(String, String)]) -> String {
        var url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : baseURL + (path.isEmpty || path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty { url = Self.setting(query, on: url) }
        return url
    }

    /// Whether `url` is on the base URL's origin (scheme, host and port): only there do the connection's
    /// credentials and headers go, so a node path, a redirect or a next-page link elsewhere cannot carry them away.
    func isSameOrigin(_ url: String) -> Bool {
        func origin(_ text: String) -> (String, String, Int)? {
            guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased() else { return nil }
            return (scheme, host, components.port ?? (scheme == "https" ? 443 : 80))
        }
        guard let base = origin(baseURL), let target = origin(url) else { return false }
        return base == target
    }

    /// The URL with the given query parameters set (replacing parameters of the same name).
    static func setting(_ query: [(String, String)], on url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = components.queryItems ?? []
        for (name, value) in query {
            items.removeAll { $0.name == name }
            items.append(URLQueryItem(name: name, value: value))
        }
        components.percentEncodedQuery = items.map { Self.encode($0.name) + "=" + Self.encode($0.value ?? "") }.joined(separator: "&")
        return components.string ?? url
    }

    /// Percent-encodes a query component (RFC 3986 unreserved characters stay).
    static func encode(_ text: String) -> String {
        TextTemplate.percentEncoded(text)
    }

    /// A URL safe to log: an API key sent as a query parameter is replaced by `***`.
    func redacted(_ url: String) -> String {
        guard case let .apiKey(name, .query, _) = auth, var components = URLComponents(string: url), let items = components.queryItems else { return url }
        components.queryItems = items.map { $0.name == name ? URLQueryItem(name: name, value: "***") : $0 }
        return components.string ?? url
    }
}

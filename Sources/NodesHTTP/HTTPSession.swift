import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import NodeKit
import Synchronization

/// One request to send.
struct OutgoingRequest: Sendable {
    var method: HTTPMethod
    var url: String
    var headers: [(name: String, value: String)] = []
    var body: [UInt8]?
}

/// A response: status, headers, the whole body (up to the session's limit), and the URL that answered.
struct HTTPReply: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]
    let url: String

    var isSuccess: Bool { (200..<300).contains(status) }

    /// The start of the body as text, for error messages and rejected records.
    var excerpt: String {
        let text = String(decoding: body.prefix(500), as: UTF8.self)
        return body.count > 500 ? text + "…" : text
    }
}

/// The HTTP clients requests go through: one per trusted CA file (nil = the system's roots). They never follow
/// redirects themselves: a session follows them, checking each target against the outbound policy. Like
/// `HTTPClient.shared` they live as long as the process.
enum HTTPClients {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    static func client(caFile: String?) throws -> HTTPClient {
        clients.withLock { cache in
            if let existing = cache[caFile ?? ""] { return existing }
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .disallow
            // Per-row requests run up to 256 at once; the default pool would hold them to 8 connections per host.
            configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
            configuration.decompression = .enabled(limit: .ratio(200))
            if let caFile {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .file(caFile)
                configuration.tlsConfiguration = tls
            }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            cache[caFile ?? ""] = client
            return client
        }
    }
}

/// Sends requests for one node (or one connection test) through an `http` connection: authentication
/// (OAuth2 tokens fetched, cached and renewed before they expire), the rate limit, redirects checked against the
/// outbound policy, and retries with exponential backoff that honour `Retry-After` on 429 and 503.
final class HTTPSession: Sendable {
    let endpoint: HTTPEndpoint
    let client: HTTPClient
    let maxBodyBytes: Int
    private let limiter: RateLimiter?
    private let tokens: OAuth2Tokens?
    /// Where retries are reported (the node's log).
    let log: @Sendable (String) -> Void

    static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]

    init(_ endpoint: HTTPEndpoint, maxBodyBytes: Int = 64 << 20, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.endpoint = endpoint
        client = try HTTPClients.client(caFile: endpoint.caFile)
        self.maxBodyBytes = maxBodyBytes
        limiter = endpoint.rateLimit.map { RateLimiter(perSecond: $0) }
        if case let .oauth2(tokenURL, clientID, secret, scopes) = endpoint.auth {
            tokens = OAuth2Tokens(tokenURL: tokenURL, clientID: clientID, secret: secret, scopes: scopes)
        } else {
            tokens = nil
        }
        self.log = log
    }

    /// Sends the request, retrying network failures and retryable statuses; returns the last reply whatever
    /// its status (callers decide what a 4xx means), or throws when the network failed on every attempt.
    func send(_ request: OutgoingRequest) async throws -> HTTPReply {
        var attempt = 0
        var renewedToken = false
        while true {
            try Task.checkCancellation()
            await limiter?.acquire()
            let reply: HTTPReply
            do {
                reply = try await sendOnce(request)
            } catch let error as ConfigError {
                throw NodeError(code: error.code, message: error.message)
            } catch let error as NodeError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attempt < endpoint.retries else {
                    throw NodeError(code: "http_unreachable", message: "\(request.method) \(endpoint.redacted(request.url)) failed after \(attempt + 1) attempt(s)",
                                    isRetryable: true, cause: "\(error)")
                }
                let wait = Self.backoff(attempt)
                log("\(request.method) \(endpoint.redacted(request.url)): \(error); retrying in \(Self.describe(wait))")
                try await Task.sleep(for: wait)
                attempt += 1
                continue
            }
            if reply.status == 401, let tokens, !renewedToken {
                // The token may have been revoked early: fetch a new one once.
                await tokens.invalidate()
                renewedToken = true
                continue
            }
            if Self.retryableStatuses.contains(reply.status), attempt < endpoint.retries {
                let wait = Self.retryAfter(reply.headers.first(name: "Retry-After")) ?? Self.backoff(attempt)
                log("\(request.method) \(endpoint.redacted(reply.url)) answered \(reply.status); retrying in \(Self.describe(wait)) (attempt \(attempt + 2) of \(endpoint.retries + 1))")
                try await Task.sleep(for: wait)
                attempt += 1
                continue
            }
            return reply
        }
    }

    /// One attempt: authentication added, redirects followed (each target checked), the body collected.
    private func sendOnce(_ original: OutgoingRequest) async throws -> HTTPReply {
        let (response, url) = try await respond(original)
        let collected: ByteBuffer
        do { collected = try await response.body.collect(upTo: maxBodyBytes) } catch is NIOTooManyBytesError {
            throw NodeError(code: "body_too_large", message: "\(endpoint.redacted(url)) answered with more than \(maxBodyBytes >> 20) MB; lower the page size or raise maxBodyBytes")
        }
        return HTTPReply(status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView), url: url)
    }

    /// One attempt up to the response's head: authentication added, redirects followed (each target checked).
    /// The body is left to the caller to read.
    private func respond(_ original: OutgoingRequest) async throws -> (HTTPClientResponse, String) {
        var url = original.url
        var method = original.method
        var body = original.body
        for _ in 0...5 {
            try endpoint.outbound.check(url: url)
            // Credentials and the connection's headers go to its own origin only (not to a redirect or link elsewhere).
            let trusted = endpoint.isSameOrigin(url)
            var request = HTTPClientRequest(url: trusted ? try await authorized(url) : url)
            request.method = method
            if trusted { for (name, value) in endpoint.headers { request.headers.replaceOrAdd(name: name, value: value) } }
            for (name, value) in original.headers { request.headers.replaceOrAdd(name: name, value: value) }
            if trusted, let header = try await authorizationHeader() { request.headers.replaceOrAdd(name: header.name, value: header.value) }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await client.execute(request, timeout: .milliseconds(endpoint.timeout.milliseconds))
            if [301, 302, 303, 307, 308].contains(Int(response.status.code)), let location = response.headers.first(name: "location"),
               let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString {
                if response.status.code == 303 || ((response.status.code == 301 || response.status.code == 302) && method == .POST) { method = .GET; body = nil }
                url = next
                continue
            }
            return (response, url)
        }
        throw NodeError(code: "too_many_redirects", message: "\(endpoint.redacted(original.url)) redirected more than 5 times")
    }

    /// GETs `url` for streaming its body (a file): network failures and retryable statuses are retried before
    /// any byte is read; any other status than 2xx fails with the start of the reply.
    func open(_ url: String) async throws -> HTTPClientResponse.Body {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            await limiter?.acquire()
            let response: HTTPClientResponse
            let answered: String
            do { (response, answered) = try await respond(OutgoingRequest(method: .GET, url: url)) } catch let error as ConfigError {
                throw NodeError(code: error.code, message: error.message)
            } catch let error as NodeError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as NIOSSLError {
                // A certificate the client does not trust will not become trusted by asking again.
                throw NodeError(code: "tls_failed", message: "GET \(endpoint.redacted(url)): TLS failed (\(error)); for a server with a private CA, read it through an http connection with caFile",
                                isRetryable: false)
            } catch {
                guard attempt < endpoint.retries else {
                    throw NodeError(code: "http_unreachable", message: "GET \(endpoint.redacted(url)) failed after \(attempt + 1) attempt(s)", isRetryable: true, cause: "\(error)")
                }
                try await Task.sleep(for: Self.backoff(attempt))
                attempt += 1
                continue
            }
            let status = Int(response.status.code)
            if (200..<300).contains(status) { return response.body }
            let excerpt = (try? await response.body.collect(upTo: 4096)).map { String(buffer: $0) } ?? ""
            if Self.retryableStatuses.contains(status), attempt < endpoint.retries {
                try await Task.sleep(for: Self.retryAfter(response.headers.first(name: "Retry-After")) ?? Self.backoff(attempt))
                attempt += 1
                continue
            }
            throw NodeError(code: status == 404 ? "file_not_found" : "http_status", message: "GET \(endpoint.redacted(answered)) answered \(status)",
                            isRetryable: Self.retryableStatuses.contains(status), cause: String(excerpt.prefix(500)))
        }
    }

    /// The URL with an API key added when the key goes in the query.
    private func authorized(_ url: String) async throws -> String {
        guard case let .apiKey(name, .query, key) = endpoint.auth else { return url }
        return HTTPEndpoint.setting([(name, key.reveal())], on: url)
    }

    private func authorizationHeader() async throws -> (name: String, value: String)? {
        switch endpoint.auth {
        case .none: return nil
        case let .basic(user, password): return ("Authorization", "Basic " + Data("\(user):\(password.reveal())".utf8).base64EncodedString())
        case let .bearer(token): return ("Authorization", "Bearer " + token.reveal())
        case let .apiKey(name, .header, key): return (name, key.reveal())
        case .apiKey: return nil
        case .oauth2: return ("Authorization", "Bearer " + (try await tokens!.token(through: self)))
        }
    }

    /// 0.5 s, 1 s, 2 s, … capped at 30 s, with up to 25% jitter so many clients do not retry in step.
    static func backoff(_ attempt: Int) -> Duration {
        let base = min(30.0, 0.5 * pow(2, Double(attempt)))
        return .milliseconds(Int64(base * 1000 * Double.random(in: 1.0...1.25)))
    }

    /// `Retry-After` as seconds or an HTTP date, capped at 5 minutes; nil when absent or unreadable.
    static func retryAfter(_ header: String?) -> Duration? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Double(header), seconds >= 0 { return .milliseconds(Int64(min(seconds, 300) * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: header) else { return nil }
        return .milliseconds(Int64(max(0, min(300, date.timeIntervalSinceNow)) * 1000))
    }

    static func describe(_ duration: Duration) -> String {
        let millis = duration.milliseconds
        return millis < 1000 ? "\(millis) ms" : String(format: "%.1f s", Double(millis) / 1000)
    }
}

/// Spaces requests evenly: at most `perSecond` requests start per second.
actor RateLimiter {
    private let interval: Duration
    private var nextFree = ContinuousClock.now

    init(perSecond: Double) { interval = .milliseconds(Int64(1000 / perSecond)) }

    func acquire() async {
        let now = ContinuousClock.now
        let start = max(now, nextFree)
        nextFree = start + interval
        if start > now { try? await Task.sleep(until: start, clock: .continuous) }
    }
}

/// OAuth2 client-credentials tokens (RFC 6749 §4.4): fetched when first needed, cached, and renewed 30 s
/// before they expire (or when the API answers 401).
actor OAuth2Tokens {
    let tokenURL: String
    let clientID: String
    let secret: Secret
    let scopes: [String]
    private var cached: (token: String, expires: ContinuousClock.Instant)?

    init(tokenURL: String, clientID: String, secret: Secret, scopes: [String]) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.secret = secret
        self.scopes = scopes
    }

    func invalidate() { cached = nil }

    func token(through session: HTTPSession) async throws -> String {
        if let cached, ContinuousClock.now + .seconds(30) < cached.expires { return cached.token }
        try session.endpoint.outbound.check(url: tokenURL)
        var request = HTTPClientRequest(url: tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let credentials = HTTPEndpoint.encode(clientID) + ":" + HTTPEndpoint.encode(secret.reveal())
        request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        var form = "grant_type=client_credentials"
        if !scopes.isEmpty { form += "&scope=" + HTTPEndpoint.encode(scopes.joined(separator: " ")) }
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await session.client.execute(request, timeout: .milliseconds(session.endpoint.timeout.milliseconds))
        let body = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw NodeError(code: "oauth2_failed", message: "the token endpoint \(tokenURL) answered \(response.status.code)",
                            cause: String(decoding: body.prefix(300), as: UTF8.self))
        }
        guard let document = try? JSONTreeParser.parse(body), let token = document["access_token"]?.scalarText else {
            throw NodeError(code: "oauth2_failed", message: "the token endpoint \(tokenURL) answered without an access_token")
        }
        let lifetime = document["expires_in"]?.scalarText.flatMap { Int64($0) } ?? 3600
        cached = (token, ContinuousClock.now + .seconds(lifetime))
        return token
    }
}

import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
public import NodeKit
public import Store

/// `http_poll`: a URL polled until its ETag, Last-Modified or body changes.
public struct HTTPPollTrigger: TriggerKind {
    static let url = Field<String>("url", summary: "http or https URL to poll.", example: "https://example.com/feed.json")
    static let pollEvery = Field<Duration>("pollEvery", summary: "How often to check (30s, 15m, 2h).", default: .seconds(60))
    static let headers = Field<NamedValues<String>>("headers", summary: "Request headers.", default: NamedValues())
    static let timeoutSeconds = Field<Int>("timeoutSeconds", summary: "Request timeout (1–600).", default: 30)

    public static let name = "http_poll"
    public static let summary = "When a URL's content changes."
    public static let fields = [url.spec, pollEvery.spec, headers.spec, timeoutSeconds.spec]
    public static let sampleEvent: TriggerEvent? = TriggerEvent(["url": .string(""), "status": .int(0), "etag": .string(""), "last_modified": .string(""),
                                                                 "body_hash": .string(""), "body": .string("")])

    public let url: String
    public let pollMillis: Int64
    public let headers: [(name: String, value: String)]
    public let timeoutSeconds: Int

    public init(_ settings: Settings) throws(ConfigError) {
        url = try settings[Self.url]
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw settings.error(Self.url, "'\(url)' is not an http or https URL")
        }
        pollMillis = try settings.millis(Self.pollEvery)
        headers = try settings[Self.headers].entries.map { ($0.name, $0.value) }
        timeoutSeconds = try settings.int(Self.timeoutSeconds, in: 1...600)
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        try await scheduler.apply(try await HTTPPoll.poll(self, state: state, probes: scheduler.probes), trigger, definition)
    }
}

/// `http_poll`: fetches a URL (conditionally, with the last ETag / Last-Modified) and fires when the ETag,
/// Last-Modified or the body's SHA-256 changed. The first successful poll records a baseline without firing.
public enum HTTPPoll {
    static let bodyLimit = 16 * 1024 * 1024

    /// A process-wide client that does not follow redirects by itself: the poll follows them, checking each
    /// target against the outbound policy. Like `HTTPClient.shared` it lives as long as the process.
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    static func poll(_ settings: HTTPPollTrigger, state: JSONValue, probes: TriggerProbes) async throws -> PollResult {
        var state = state.objectValue
        var url = settings.url
        var response: HTTPClientResponse
        var redirects = 0
        while true {
            // Each hop is checked: a public URL must not redirect the poll to loopback or a metadata endpoint.
            do { try probes.outbound.check(url: url) } catch { throw TriggerConfigError(error.code, error.message, field: "settings.url") }
            var request = HTTPClientRequest(url: url)
            for (name, value) in settings.headers { request.headers.add(name: name, value: value) }
            if let etag = state["etag"]?.stringValue { request.headers.add(name: "If-None-Match", value: etag) }
            if let modified = state["last_modified"]?.stringValue { request.headers.add(name: "If-Modified-Since", value: modified) }
            response = try await probes.http.execute(request, timeout: .seconds(Int64(settings.timeoutSeconds)))
            guard [301, 302, 303, 307, 308].contains(response.status.code), let location = response.headers.first(name: "location"),
                  let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString else { break }
            redirects += 1
            guard redirects <= 5 else { throw TriggerConfigError("too_many_redirects", "\(settings.url) redirected more than 5 times", field: "settings.url") }
            url = next
        }
        if response.status == .notModified { return PollResult() }
        guard (200..<300).contains(response.status.code) else {
            throw TriggerConfigError("http_status", "\(settings.url) answered \(response.status.code) \(response.status.reasonPhrase)", field: "settings.url")
        }
        let body = try await response.body.collect(upTo: bodyLimit)
        let hash = SHA256.hash(data: body.readableBytesView).map { String(format: "%02x", $0) }.joined()
        let etag = response.headers.first(name: "ETag"), modified = response.headers.first(name: "Last-Modified")
        let changed = state["body_hash"]?.stringValue != hash || state["etag"]?.stringValue != etag || state["last_modified"]?.stringValue != modified
        let hadBaseline = state["body_hash"] != nil
        state["body_hash"] = .string(hash)
        state["etag"] = etag.map(JSONValue.string) ?? .null
        state["last_modified"] = modified.map(JSONValue.string) ?? .null
        guard hadBaseline else { return PollResult(quietState: .object(state)) }
        guard changed else { return PollResult() }
        let text = body.readableBytes <= 65_536 ? String(buffer: body) : nil
        let event = TriggerEvent(["url": .string(settings.url), "status": .int(Int64(response.status.code)), "etag": etag.map(JSONValue.string) ?? .null,
                                  "last_modified": modified.map(JSONValue.string) ?? .null, "body_hash": .string(hash), "body": text.map(JSONValue.string) ?? .null])
        return PollResult(events: [(event, .object(state))])
    }
}

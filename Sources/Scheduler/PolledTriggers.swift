import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
public import NodeKit
public import Store

/// What polled triggers need from outside: the named connections (resolved for the trigger's creator) and
/// the connectors that serve them, an HTTP client, and a directory for files triggers hand to runs (mail attachments).
public struct TriggerProbes: Sendable {
    /// The connection a trigger names, with its secrets opened.
    public var connection: @Sendable (_ name: String) async throws -> Connection
    /// The connectors, asked for the ability a trigger kind needs (watermark queries, mailboxes).
    public var connectors: ConnectorRegistry
    public var http: HTTPClient
    /// Where mailbox triggers save attachments (`<directory>/<trigger id>/<uidvalidity>-<uid>/`).
    public var filesDirectory: String
    /// Where watched and attachment directories may lead (the server's workspace roots).
    public var files: FileRoots
    /// Which hosts HTTP polls may reach (every redirect is checked too).
    public var outbound: OutboundPolicy

    public init(connection: @escaping @Sendable (_ name: String) async throws -> Connection = { name in
                    throw TriggerConfigError("unknown_connection", "no connection named '\(name)'", field: "settings.connection")
                },
                connectors: ConnectorRegistry = ConnectorRegistry([]),
                http: HTTPClient = HTTPPoll.client, filesDirectory: String = NSTemporaryDirectory() + "sluice-trigger-files",
                files: FileRoots = .unconfined(base: "/"), outbound: OutboundPolicy = .unrestricted) {
        self.connection = connection
        self.connectors = connectors
        self.http = http
        self.filesDirectory = filesDirectory
        self.files = files
        self.outbound = outbound
    }

    /// The connection a trigger names and its connector's `ability`; a `settings.connection` error naming the
    /// types that offer it when the connection's type does not.
    func connection<Ability>(_ name: String, offering ability: Ability.Type, for purpose: String) async throws -> (Connection, Ability) {
        let connection = try await connection(name)
        guard let connector = connectors.connector(connection.type, offering: ability) else {
            throw TriggerConfigError("connection_type_mismatch", "connection '\(name)' is of type \(connection.type); \(purpose) need \(connectors.describeTypes(offering: ability))",
                                     field: "settings.connection")
        }
        return (connection, connector)
    }

    /// A directory a trigger's setting names, resolved inside the workspace (`path_outside_workspace` otherwise).
    func directory(_ path: String, field: String) throws -> String {
        do { return try files.resolve(path) } catch { throw TriggerConfigError(error.code, error.message, field: field) }
    }
}

/// A poll's result: events to fire (each with the state to save with it) and the state to save when nothing fired.
struct PollResult {
    var events: [(event: TriggerEvent, state: JSONValue)] = []
    /// State to save without a firing (a baseline, files still settling, an error), or nil when unchanged.
    var quietState: JSONValue?
    /// Something to record before the events, with no runs (a mailbox whose UIDVALIDITY changed).
    var notice: (outcome: String, detail: String, event: TriggerEvent, state: JSONValue)?
}

extension JSONValue {
    var objectValue: [String: JSONValue] { if case let .object(o) = self { o } else { [:] } }
    var intValue: Int64? { if case let .int(i) = self { i } else { nil } }
}

/// `watermark`: polls a value (`max(column)` of a table, or a query's first value) and fires when it grows.
enum WatermarkPoll {
    static func poll(_ settings: WatermarkSettings, state: JSONValue, probes: TriggerProbes) async throws -> PollResult {
        var state = state.objectValue
        let old = state["watermark"]?.stringValue
        let sql: String
        if let query = settings.query {
            sql = query
        } else {
            let table = QualifiedName(parsing: settings.table!)?.quoted ?? SQLText.quote(settings.table!)
            let column = SQLText.quote(settings.column!)
            let newRows = old.map { "CAST((SELECT count(*) FROM \(table) WHERE \(column) > \(literal($0))) AS TEXT)" } ?? "NULL"
            sql = "SELECT CAST(max(\(column)) AS TEXT), \(newRows) FROM \(table)"
        }
        let (connection, probe) = try await probes.connection(settings.connection, offering: (any WatermarkProbing.Type).self, for: "watermark triggers")
        let row = try await probe.firstRow(connection, sql: sql)
        guard let value = row?.first ?? nil else { return PollResult() }
        state["watermark"] = .string(value)
        guard let old else {
            if settings.fireOnFirst { return PollResult(events: [(TriggerEvent(["old_watermark": .null, "new_watermark": .string(value), "new_rows": .null]), .object(state))]) }
            return PollResult(quietState: .object(state))
        }
        guard greater(value, than: old) else { return PollResult() }
        let newRows: JSONValue = settings.query == nil ? (row?.dropFirst().first.flatMap { $0 }.flatMap { Int64($0) }.map(JSONValue.int) ?? .null) : .null
        return PollResult(events: [(TriggerEvent(["old_watermark": .string(old), "new_watermark": .string(value), "new_rows": newRows]), .object(state))])
    }

    /// Numbers compare as numbers; other values (ISO dates and timestamps) in text order.
    static func greater(_ a: String, than b: String) -> Bool {
        if let x = Double(a), let y = Double(b) { return x > y }
        return a > b
    }

    /// The old watermark as a SQL literal: numbers bare, anything else quoted (the database casts it to the column's type).
    static func literal(_ text: String) -> String {
        Double(text) != nil && !text.contains(where: { $0.isLetter }) ? text : SQLText.literal(text)
    }
}

/// `file`: new files matching a glob, fired once each after their size stayed the same for the settle time.
///
/// State: `seen` maps a file name to `size:mtime:inode` of the version already fired; the same name with another
/// size, modification time or inode is a new file. (File times advance in steps of a few milliseconds, so a file
/// replaced at once by one of the same size can share its mtime; entries saved before the inode was kept are
/// `size:mtime` and still match.) `pending` holds files still settling. With `after: move`, a fired file is
/// moved to `processed/` in the directory and the event's `path` is where it was moved.
enum FileArrivalPoll {
    static func poll(_ settings: FileArrivalSettings, state: JSONValue, now: Int64, files: FileRoots = .unconfined(base: "/")) throws -> PollResult {
        var settings = settings
        do { settings.directory = try files.resolve(settings.directory) } catch {
            throw TriggerConfigError(error.code, error.message, field: "settings.directory")
        }
        let manager = FileManager.default
        var seen = state["seen"]?.objectValue ?? [:]
        var pending = state["pending"]?.objectValue ?? [:]
        let before = JSONValue.object(["seen": .object(seen), "pending": .object(pending)])
        guard let names = try? manager.contentsOfDirectory(atPath: settings.directory) else {
            throw TriggerConfigError("unreadable_directory", "cannot read directory '\(settings.directory)'", field: "settings.directory")
        }
        var result = PollResult()
        var present: Set<String> = []
        for name in names.sorted() where fnmatch(settings.glob, name, 0) == 0 && !name.hasPrefix(".") {
            let path = settings.directory + "/" + name
            guard let attributes = try? manager.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            present.insert(name)
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            let modified = Int64(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000)
            let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
            let identity = "\(size):\(modified):\(inode)"
            if let fired = seen[name]?.stringValue, fired == identity || fired == "\(size):\(modified)" {
                if settings.moveToProcessed { try? moveToProcessed(settings, name) }
                continue
            }
            if let waiting = pending[name]?.objectValue, waiting["identity"]?.stringValue == identity {
                guard now - (waiting["since"]?.intValue ?? now) >= settings.settleMillis else { continue }
                pending[name] = nil
                seen[name] = .string(identity)
                let firedPath = settings.moveToProcessed ? settings.directory + "/processed/" + name : path
                let event = TriggerEvent(["path": .string(firedPath), "name": .string(name), "size": .int(size), "modified_at": .string(TimeTriggers.iso(modified))])
                result.events.append((event, .object(["seen": .object(seen), "pending": .object(pending)])))
            } else {
                pending[name] = .object(["identity": .string(identity), "since": .int(now)])
            }
        }
        // Forget files that are gone (a later file with the same name is new); moved files are gone once moved.
        for name in seen.keys where !present.contains(name) { seen[name] = nil }
        for name in pending.keys where !present.contains(name) { pending[name] = nil }
        let after = JSONValue.object(["seen": .object(seen), "pending": .object(pending)])
        if result.events.isEmpty, after != before { result.quietState = after }
        if !result.events.isEmpty, after != result.events.last!.state { result.events[result.events.count - 1].state = after }
        return result
    }

    /// Moves a fired file to `processed/` (after its firing committed).
    static func moveToProcessed(_ settings: FileArrivalSettings, _ name: String) throws {
        let manager = FileManager.default
        let folder = settings.directory + "/processed"
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let target = folder + "/" + name
        if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
        try manager.moveItem(atPath: settings.directory + "/" + name, toPath: target)
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

    static func poll(_ settings: HTTPPollSettings, state: JSONValue, probes: TriggerProbes) async throws -> PollResult {
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

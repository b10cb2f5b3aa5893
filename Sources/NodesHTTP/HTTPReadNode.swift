import Columnar
import Foundation
import NIOHTTP1
public import NodeKit

/// Methods a read may use.
enum ReadMethod: String, Choice {
    case GET, POST

    var http: HTTPMethod { self == .GET ? .GET : .POST }
}

/// Reads records from a REST API: one request, or every page of a paginated one (page, offset, cursor, Link
/// header or next-URL styles), JSON (records at a path), JSON Lines or CSV bodies. Nested objects become
/// `parent_child` columns down to `flattenDepth`; the schema is inferred from the first page (declared types
/// win). Incremental reads send the last committed cursor in a query parameter and commit the newest with
/// the sink's data, exactly like database cursors. The next page is fetched while the current one is decoded.
public struct HTTPReadNode: NodeType {
    static let connection = Field<ConnectionName>("connection", summary: "An http connection (base URL, authentication, rate limit, retries).", example: "crm")
    static let method = Field<ReadMethod>("method", summary: "GET, or POST with a body.", default: .GET)
    static let path = Field<String>("path", summary: "Path under the connection's baseUrl (${param} allowed).", example: "/v1/contacts")
    static let query = Field<NamedValues<String>>("query", summary: "Query parameters sent with every page.", default: NamedValues())
    static let headers = Field<NamedValues<String>>("headers", summary: "Request headers (added to the connection's).", default: NamedValues())
    static let body = Field<String?>("body", summary: "Request body for POST (sent as JSON unless a Content-Type header says otherwise).")
    static let records = Field<String?>("records", summary: "Dotted path of the records array in a JSON body (data.items); the body itself when it is an array.", example: "data.items")
    static let format = Field<BodyFormat>("format", summary: "Body format: auto (from Content-Type), json, jsonl or csv.", default: .auto)
    static let pagination = Field<Pagination>("pagination", summary: "How pages follow each other: {style: none | page | offset | cursor | link | nextUrl, …} (see docs/connectors/http.md).")
    static let maxPages = Field<Int>("maxPages", summary: "Stop after this many pages (a warning says more were left).", default: 10_000)
    static let flattenDepth = Field<Int>("flattenDepth", summary: "Levels of nested objects turned into parent_child columns; deeper values stay JSON.", default: 1)
    static let schema = Field<SchemaDeclaration?>("schema", summary: "Column types (all or some columns); the rest are inferred from the first page.")
    static let inferRecords = Field<Int>("inferRecords", summary: "Records of the first page sampled to infer types.", default: 1_000)
    static let mode = Field<ReadMode>("mode", summary: "full reads everything; incremental reads only records after the last committed cursor.", default: .full)
    static let cursor = Field<String?>("cursor", summary: "Incremental: the (flattened) field that grows with each new record.", example: "updated_at")
    static let cursorParam = Field<String?>("cursorParam", summary: "Incremental: the query parameter that receives the last committed cursor.", example: "updated_since")
    static let batchRows = Field<Int>("batchRows", summary: "Rows per batch.", default: 8_192)
    static let maxBodyBytes = Field<Int>("maxBodyBytes", summary: "Largest response body accepted, in bytes.", default: 64 << 20)

    public static let spec = NodeSpec(
        id: "http.read", version: 1, category: .source, title: "REST API",
        summary: "Reads records from a REST API, following its pagination; incremental by a cursor field.",
        inputs: [], outputs: [.data("out")],
        fields: [connection.spec, method.spec, path.spec, query.spec, headers.spec, body.spec, records.spec, format.spec, pagination.spec, maxPages.spec,
                 flattenDepth.spec, schema.spec, inferRecords.spec, mode.spec, cursor.spec, cursorParam.spec, batchRows.spec, maxBodyBytes.spec],
        capabilities: [.rejects], icon: "globe")

    let settings: Settings
    let read: ReadRequest
    let declared: Schema?
    let inferRecords: Int

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        let endpoint = try HTTPEndpoint(try settings.connection(Self.connection, type: HTTPConnector.spec.type))
        let mode = try settings[Self.mode]
        let cursor = try settings[Self.cursor]
        if mode == .incremental, cursor == nil {
            throw settings.error(Self.cursor, "an incremental read needs cursor: the field that grows with each new record", code: "missing_field")
        }
        let maxPages = try settings[Self.maxPages], flattenDepth = try settings[Self.flattenDepth], batchRows = try settings[Self.batchRows]
        guard maxPages >= 1 else { throw settings.error(Self.maxPages, "maxPages must be at least 1") }
        guard (0...16).contains(flattenDepth) else { throw settings.error(Self.flattenDepth, "flattenDepth must be 0 to 16") }
        let maxBody = try settings[Self.maxBodyBytes]
        guard (1024...(256 << 20)).contains(maxBody) else { throw settings.error(Self.maxBodyBytes, "maxBodyBytes must be 1 KB to 256 MB (two pages are held at once)") }
        let method = try settings[Self.method]
        let body = try settings[Self.body]
        if body != nil, method == .GET { throw settings.error(Self.body, "a body needs method: POST") }
        read = ReadRequest(endpoint: endpoint, method: method.http, path: try settings[Self.path], query: try settings[Self.query].entries.map { ($0.name, $0.value) },
                           headers: try settings[Self.headers].entries.map { ($0.name, $0.value) }, body: body.map { Array($0.utf8) },
                           recordsPath: Pagination.path(try settings[Self.records] ?? ""), format: try settings[Self.format], pagination: try settings[Self.pagination],
                           maxPages: maxPages, flattener: RecordFlattener(depth: flattenDepth), batchRows: max(1, batchRows), maxBodyBytes: maxBody,
                           incremental: mode == .incremental ? IncrementalHTTP(cursor: cursor!, parameter: try settings[Self.cursorParam]) : nil)
        declared = try settings[Self.schema]?.schema
        inferRecords = max(0, try settings[Self.inferRecords])
    }

    /// Fetches the first page to infer the columns (unless every column is declared and inference is off).
    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        var inference = SchemaInference()
        if inferRecords > 0 || declared == nil {
            let page: FetchedPage
            do {
                let session = try HTTPSession(read.endpoint, maxBodyBytes: read.maxBodyBytes)
                page = try await read.fetch(read.firstURL(state: nil), session: session)
            } catch {
                throw settings.error(Self.path, "reading the first page to learn its columns: \(HTTPErrors.describe(error))", code: "http_error")
            }
            for record in page.records.prefix(max(inferRecords, 1)) { inference.add(read.flattener.flatten(record)) }
            if page.records.isEmpty, declared == nil {
                throw settings.error(Self.schema, "the first page of \(read.endpoint.redacted(page.url)) has no records to learn columns from; declare schema", code: "missing_field")
            }
        }
        let schema = inference.schema(declared: declared)
        if let incremental = read.incremental, schema.index(of: incremental.cursor) == nil {
            throw settings.error(Self.cursor, "no field '\(incremental.cursor)' in the records; their columns are: \(schema.fields.map(\.name).joined(separator: ", "))", code: "unknown_column")
        }
        return NodePlan(outputs: ["out": schema], work: HTTPReadWork(read: read, schema: schema))
    }
}

/// Incremental settings: the cursor field, and the query parameter that receives the last committed value.
struct IncrementalHTTP: Sendable {
    let cursor: String
    let parameter: String?
}

/// Everything one read needs to request and decode its pages.
struct ReadRequest: Sendable {
    let endpoint: HTTPEndpoint
    let method: HTTPMethod
    let path: String
    let query: [(String, String)]
    let headers: [(name: String, value: String)]
    let body: [UInt8]?
    let recordsPath: [String]
    let format: BodyFormat
    let pagination: Pagination
    let maxPages: Int
    let flattener: RecordFlattener
    let batchRows: Int
    let maxBodyBytes: Int
    let incremental: IncrementalHTTP?

    /// The first page's URL: the path, the query, the pagination's first parameters and the committed cursor.
    func firstURL(state: CursorState?, pager: Pager? = nil) -> String {
        var query = self.query
        for (name, value) in (pager ?? Pager(pagination, maxPages: maxPages)).first.sorted(by: { $0.key < $1.key }) { query.append((name, value)) }
        if let state, let parameter = incremental?.parameter { query.append((parameter, state.cursor)) }
        return endpoint.url(path: path, query: query)
    }

    /// One page: its records and what pagination needs from it.
    func fetch(_ url: String, session: HTTPSession) async throws -> FetchedPage {
        var headers = self.headers
        if body != nil, !headers.contains(where: { $0.name.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
        if !headers.contains(where: { $0.name.lowercased() == "accept" }) { headers.append(("Accept", "application/json, application/x-ndjson, text/csv;q=0.9, */*;q=0.5")) }
        let reply = try await session.send(OutgoingRequest(method: method, url: url, headers: headers, body: body))
        guard reply.isSuccess else {
            throw NodeError(code: "http_status", message: "\(method) \(endpoint.redacted(reply.url)) answered \(reply.status)",
                            isRetryable: reply.status >= 500 || reply.status == 429, cause: reply.excerpt)
        }
        let format = format.resolved(contentType: reply.headers.first(name: "Content-Type"))
        let parsed: ResponseRecords
        do { parsed = try ResponseRecords.read(reply.body, format: format, path: recordsPath) } catch {
            throw NodeError(code: "invalid_response", message: "\(endpoint.redacted(reply.url)): \(error.message)", cause: reply.excerpt)
        }
        return FetchedPage(url: reply.url, records: parsed.records, document: parsed.document, link: reply.headers[canonicalForm: "Link"].joined(separator: ", "),
                           bytes: reply.body.count, status: reply.status, excerpt: reply.excerpt)
    }
}

/// One fetched page.
struct FetchedPage: Sendable {
    let url: String
    let records: [JSONTree]
    let document: JSONTree?
    let link: String
    let bytes: Int
    let status: Int
    /// The start of the body, for previews.
    let excerpt: String
}

/// Messages for errors met while talking to an API (never containing secrets: URLs are redacted where built).
enum HTTPErrors {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NodeError: error.description
        case let error as ConfigError: error.message
        default: "\(error)"
        }
    }
}

/// The running read: pages fetched one ahead of decoding, records flattened, filtered after the committed
/// cursor (incremental), typed into batches; records that do not fit their column are rejected with the page URL.
struct HTTPReadWork: NodeWork {
    let read: ReadRequest
    let schema: Schema

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        let session = try HTTPSession(read.endpoint, maxBodyBytes: read.maxBodyBytes) { context.log(.warning, $0) }
        var state: CursorState?
        var cursorType = DataType.string
        if let incremental = read.incremental {
            cursorType = schema.field(named: incremental.cursor)?.type ?? .string
            state = CursorState.earliest(try await context.committedState().compactMap(CursorState.parse), cursorType: cursorType)
            context.log(.info, state.map { "reading records after cursor \($0.cursor)" } ?? "no committed cursor: reading everything")
        }
        var pager = Pager(read.pagination, maxPages: read.maxPages)
        var builder = RecordBatchBuilder(schema: schema, capacity: read.batchRows)
        var newest = state
        var total = 0, skipped = 0, row = 0
        let firstURL = read.firstURL(state: state, pager: pager)
        var pending: Task<FetchedPage, any Error>? = Task { [read] in try await read.fetch(firstURL, session: session) }
        defer { pending?.cancel() }
        while let task = pending {
            let page = try await task.value
            context.addBytes(page.bytes)
            if context.isPreview, pager.pages == 0 {
                context.log(.info, "\(read.method) \(read.endpoint.redacted(page.url)) answered \(page.status) with \(page.bytes) bytes: \(page.excerpt)")
            }
            // The next page is requested before this one is decoded.
            switch pager.next(records: page.records.count, document: page.document, linkHeader: page.link.isEmpty ? nil : page.link, currentURL: page.url) {
            case let .query(parameters)?:
                let url = HTTPEndpoint.setting(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, on: page.url)
                pending = Task { [read] in try await read.fetch(url, session: session) }
            case let .url(url)?:
                pending = Task { [read] in try await read.fetch(url, session: session) }
            case nil:
                pending = nil
            }
            var rejects: [RejectedRecord] = []
            for record in page.records {
                defer { row += 1 }
                let flat = read.flattener.flatten(record)
                if let incremental = read.incremental, let cursorValue = flat.first(where: { $0.name == incremental.cursor })?.value.scalarText {
                    let candidate = CursorState(cursor: cursorValue, key: [])
                    if let state, !CursorState.precedes(state.cursor, cursorValue, cursorType) { skipped += 1; continue }
                    if newest == nil || CursorState.precedes(newest!.cursor, candidate.cursor, cursorType) { newest = candidate }
                }
                if let problem = builder.append(flat) {
                    rejects.append(RejectedRecord(code: "type_mismatch", message: problem.message, field: problem.column, source: read.endpoint.redacted(page.url),
                                                  row: row, payload: .text(record.text)))
                    continue
                }
                total += 1
                if builder.count >= read.batchRows { try await context.emit(builder.take(), on: "out") }
            }
            if !rejects.isEmpty { try await context.reject(rejects) }
        }
        if builder.count > 0 { try await context.emit(builder.take(), on: "out") }
        if pager.stoppedAtLimit { context.log(.warning, "stopped after maxPages (\(read.maxPages)) pages; the API had more") }
        context.log(.info, "read \(total) record(s) from \(pager.pages) page(s)" + (skipped > 0 ? "; \(skipped) at or before the committed cursor skipped" : ""))
        if let newest, newest != state {
            context.publishState(newest.json)
            context.log(.info, "new cursor \(newest.cursor) (committed with the data)")
        }
        return nil
    }
}

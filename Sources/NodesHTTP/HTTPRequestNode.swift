import Columnar
import Foundation
import NIOHTTP1
public import NodeKit

/// Methods a per-row request or a write may use.
enum WriteMethod: String, Choice {
    case GET, POST, PUT, PATCH, DELETE

    var http: HTTPMethod {
        switch self {
        case .GET: .GET
        case .POST: .POST
        case .PUT: .PUT
        case .PATCH: .PATCH
        case .DELETE: .DELETE
        }
    }
}

/// One request per input row (enrichment, lookups): path, query, headers and body are templates over the row's
/// columns. `concurrency` requests are in flight; output rows keep their input order and gain the status,
/// chosen response headers and fields picked from the JSON body. A 4xx answer rejects the row with the status
/// and the start of the body; 5xx answers and network failures are retried, then the row is rejected.
public struct HTTPRequestNode: NodeType {
    static let connection = Field<ConnectionName>("connection", summary: "An http connection.", example: "crm")
    static let method = Field<WriteMethod>("method", summary: "HTTP method.", default: .GET)
    static let path = Field<String>("path", summary: "Path under the connection's baseUrl, a template over the row: /v1/customers/{{customer_id}} (values are URL-encoded).",
                                    example: "/v1/customers/{{customer_id}}")
    static let query = Field<NamedValues<String>>("query", summary: "Query parameters, each a template over the row.", default: NamedValues())
    static let headers = Field<NamedValues<String>>("headers", summary: "Headers, each a template over the row.", default: NamedValues())
    static let body = Field<String?>("body", summary: "Body template (JSON: values are JSON-escaped inside strings).", example: "{\"email\": \"{{email}}\"}")
    static let concurrency = Field<Int>("concurrency", summary: "Requests in flight at once (1–256).", default: 8)
    static let statusColumn = Field<String>("statusColumn", summary: "Column receiving the HTTP status.", default: "http_status")
    static let responseHeaders = Field<[String]>("responseHeaders", summary: "Response headers to keep, each as a column header_<name> (lowercase, - as _).", default: [])
    static let fields = Field<NamedValues<String>>("fields", summary: "Columns taken from the JSON response: column → dotted path (data.score).", default: NamedValues(),
                                                   example: "{score: data.score}")
    static let schema = Field<SchemaDeclaration?>("schema", summary: "Types of the response columns (default string; json keeps objects).")
    static let keepBody = Field<Bool>("keepBody", summary: "Also keep the whole response body in a column http_body.", default: false)

    public static let spec = NodeSpec(
        id: "http.request", version: 1, category: .transform, title: "HTTP request per row",
        summary: "Calls an API once per row and adds the answer's status and fields as columns.",
        inputs: [.data("in")], outputs: [.data("out")],
        fields: [connection.spec, method.spec, path.spec, query.spec, headers.spec, body.spec, concurrency.spec, statusColumn.spec, responseHeaders.spec,
                 fields.spec, schema.spec, keepBody.spec],
        capabilities: [.rejects], icon: "send")

    let settings: Settings
    let endpoint: HTTPEndpoint
    let method: HTTPMethod
    let templates: RowTemplates
    let concurrency: Int
    let statusColumn: String
    let responseHeaders: [String]
    let picks: [(column: String, path: [String])]
    let declared: Schema?
    let keepBody: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        endpoint = try HTTPEndpoint(try settings.connection(Self.connection, type: HTTPConnector.spec.type))
        method = try settings[Self.method].http
        templates = try RowTemplates(settings: settings, path: Self.path, query: Self.query, headers: Self.headers, body: Self.body, bodyEscaping: .json)
        concurrency = try settings[Self.concurrency]
        guard (1...256).contains(concurrency) else { throw settings.error(Self.concurrency, "concurrency must be 1 to 256") }
        statusColumn = try settings[Self.statusColumn]
        responseHeaders = try settings[Self.responseHeaders]
        picks = try settings[Self.fields].entries.map { ($0.name, Pagination.path($0.value)) }
        declared = try settings[Self.schema]?.schema
        keepBody = try settings[Self.keepBody]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        try templates.check(against: input, settings: settings)
        var added = [SchemaField(statusColumn, .int64)]
        added += responseHeaders.map { SchemaField(Self.headerColumn($0), .string) }
        added += picks.map { SchemaField($0.column, declared?.field(named: $0.column)?.type ?? .string) }
        if keepBody { added.append(SchemaField("http_body", .string)) }
        for field in added where input.index(of: field.name) != nil {
            throw ConfigError(code: "duplicate_column", message: "the input already has a column '\(field.name)'; choose another name", location: settings.raw.location,
                              node: settings.node, field: field.name == statusColumn ? Self.statusColumn.name : Self.fields.name)
        }
        let output = Schema(input.fields + added)
        return NodePlan(outputs: ["out": output], work: Work(node: self, input: input, output: output))
    }

    static func headerColumn(_ name: String) -> String { "header_" + name.lowercased().replacingOccurrences(of: "-", with: "_") }

    /// The outcome of one row's request.
    enum Outcome: Sendable {
        case answered(HTTPReply)
        case failed(code: String, message: String)
    }

    struct Work: NodeWork {
        let node: HTTPRequestNode
        let input: Schema
        let output: Schema

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            // Up to 256 answers are held at once: each is capped at 8 MB.
            let session = try HTTPSession(node.endpoint, maxBodyBytes: 8 << 20) { context.log(.warning, $0) }
            var rowBase = 0
            for try await batch in context.input("in") {
                let outcomes = try await requests(for: batch, session: session)
                var keep: [Bool] = []
                var added = output.fields.dropFirst(input.count).map { ColumnBuilder(type: $0.type, capacity: batch.count) }
                var rejects: [RejectedRecord] = []
                for (i, outcome) in outcomes.enumerated() {
                    switch outcome {
                    case let .answered(reply) where reply.status < 400:
                        keep.append(true)
                        append(reply, to: &added)
                    case let .answered(reply):
                        keep.append(false)
                        rejects.append(reject(batch, i, rowBase, code: "http_status", message: "\(node.endpoint.redacted(reply.url)) answered \(reply.status): \(reply.excerpt)"))
                    case let .failed(code, message):
                        keep.append(false)
                        rejects.append(reject(batch, i, rowBase, code: code, message: message))
                    }
                }
                rowBase += batch.count
                if !rejects.isEmpty { try await context.reject(rejects) }
                let kept = batch.columns.map { column -> Column in
                    var builder = ColumnBuilder(type: column.type, capacity: batch.count)
                    builder.appendSelected(from: column, keep: keep)
                    return builder.finish()
                }
                let columns = kept + added.indices.map { added[$0].finish() }
                let count = keep.filter { $0 }.count
                if count > 0 { try await context.emit(RecordBatch(schema: output, columns: columns, count: count), on: "out") }
            }
            return nil
        }

        /// Sends the batch's requests, `concurrency` at a time, and returns the outcomes in row order.
        func requests(for batch: RecordBatch, session: HTTPSession) async throws -> [Outcome] {
            let requests = (0..<batch.count).map { request(for: batch, row: $0) }
            return try await InOrder.map(requests, concurrency: node.concurrency) { request in
                do { return Outcome.answered(try await session.send(request)) } catch let error as NodeError {
                    return Outcome.failed(code: error.code, message: error.description)
                }
            }
        }

        func request(for batch: RecordBatch, row i: Int) -> OutgoingRequest {
            let values = TextTemplate.values(of: batch, row: i)
            let query = node.templates.query.map { ($0.name, $0.template.render(values)) }
            var headers = node.templates.headers.map { (name: $0.name, value: $0.template.render(values)) }
            let body = node.templates.body.map { Array($0.render(values).utf8) }
            if body != nil, !headers.contains(where: { $0.name.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
            return OutgoingRequest(method: node.method, url: node.endpoint.url(path: node.templates.path.render(values), query: query), headers: headers, body: body)
        }

        func append(_ reply: HTTPReply, to builders: inout [ColumnBuilder]) {
            var k = 0
            builders[k].appendInt64(Int64(reply.status)); k += 1
            for name in node.responseHeaders {
                if let value = reply.headers.first(name: name) { builders[k].appendString(value) } else { builders[k].appendNull() }
                k += 1
            }
            let document = node.picks.isEmpty ? nil : try? JSONTreeParser.parse(reply.body)
            for pick in node.picks {
                let type = output.fields[input.count + k].type
                if let value = document?.at(pick.path), case let .success(converted) = RecordBatchBuilder.convert(value, to: type) {
                    builders[k].append(converted)
                } else {
                    builders[k].appendNull()
                }
                k += 1
            }
            if node.keepBody { builders[k].appendString(String(decoding: reply.body, as: UTF8.self)) }
        }

        func reject(_ batch: RecordBatch, _ i: Int, _ base: Int, code: String, message: String) -> RejectedRecord {
            RejectedRecord(code: code, message: message, row: base + i,
                           payload: .row(batch.schema.fields.enumerated().map { ($1.name, batch.columns[$0].value(at: i)) }))
        }
    }
}

import Columnar
import Foundation
import NIOHTTP1
public import NodeKit

/// How rows are sent.
enum WriteFormat: String, Choice {
    /// A JSON array of row objects per request.
    case json
    /// JSON Lines: one row object per line, per request.
    case jsonl
    /// One request per row: the row as a JSON object, or the `body` template.
    case row
}

/// Sends rows to an API (a webhook, a bulk endpoint): batches of `batchSize` rows as a JSON array or JSON
/// Lines, or one request per row. Every request carries an idempotency key (the run id and the batch or row
/// number), so a receiver can drop a retried request it already took. A 4xx answer rejects the request's rows
/// with the answer; 5xx answers and network failures are retried, then fail the node.
///
/// An API has no transaction: rows reach it while the run is going, and a run that fails later does not take
/// them back (the idempotency keys make its retry safe). Previews send nothing.
public struct HTTPWriteNode: NodeType {
    static let connection = Field<ConnectionName>("connection", summary: "An http connection.", example: "crm")
    static let method = Field<WriteMethod>("method", summary: "HTTP method.", default: .POST)
    static let path = Field<String>("path", summary: "Path under the connection's baseUrl; with format: row a template over the row.", example: "/hooks/contacts")
    static let format = Field<WriteFormat>("format", summary: "json (an array per batch), jsonl (lines per batch) or row (one request per row).", default: .json)
    static let batchSize = Field<Int>("batchSize", summary: "Rows per request for json and jsonl (1–100000).", default: 500)
    static let headers = Field<NamedValues<String>>("headers", summary: "Request headers (templates over the row with format: row).", default: NamedValues())
    static let query = Field<NamedValues<String>>("query", summary: "Query parameters (templates over the row with format: row).", default: NamedValues())
    static let body = Field<String?>("body", summary: "format: row only: the body as a template over the row (default: the row as a JSON object).")
    static let concurrency = Field<Int>("concurrency", summary: "format: row only: requests in flight at once (1–256).", default: 8)
    static let idempotencyHeader = Field<String?>("idempotencyHeader", summary: "Header carrying each request's idempotency key (run id and batch or row number); null sends none.",
                                                  default: "Idempotency-Key")

    public static let spec = NodeSpec(
        id: "http.write", version: 1, category: .sink, title: "Send to an API",
        summary: "POSTs or PUTs rows to an API in batches (JSON array or JSON Lines) or one request per row.",
        inputs: [.data("in")], outputs: [], fields: [connection.spec, method.spec, path.spec, format.spec, batchSize.spec, headers.spec, query.spec, body.spec,
                                                     concurrency.spec, idempotencyHeader.spec],
        capabilities: [.immediateDelivery, .rejects], icon: "upload")

    let settings: Settings
    let endpoint: HTTPEndpoint
    let method: HTTPMethod
    let format: WriteFormat
    let batchSize: Int
    let templates: RowTemplates
    let concurrency: Int
    let idempotencyHeader: String?

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        endpoint = try HTTPEndpoint(try settings.connection(Self.connection, type: HTTPConnector.spec.type))
        method = try settings[Self.method].http
        format = try settings[Self.format]
        batchSize = try settings[Self.batchSize]
        guard (1...100_000).contains(batchSize) else { throw settings.error(Self.batchSize, "batchSize must be 1 to 100000") }
        templates = try RowTemplates(settings: settings, path: Self.path, query: Self.query, headers: Self.headers, body: Self.body, bodyEscaping: .json)
        if format != .row, templates.body != nil { throw settings.error(Self.body, "a body template needs format: row (batches are sent as JSON)") }
        concurrency = try settings[Self.concurrency]
        guard (1...256).contains(concurrency) else { throw settings.error(Self.concurrency, "concurrency must be 1 to 256") }
        idempotencyHeader = try settings[Self.idempotencyHeader]
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = try request.input()
        if format == .row {
            try templates.check(against: input, settings: settings)
        } else {
            let all = [templates.path] + templates.query.map(\.template) + templates.headers.map(\.template)
            if all.contains(where: { !$0.isConstant }) {
                throw settings.error(Self.path, "templates over the row need format: row (a batch has many rows)")
            }
        }
        return NodePlan(outputs: [:], work: Work(node: self))
    }

    struct Work: NodeWork {
        let node: HTTPWriteNode

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            if context.isPreview {
                for try await _ in context.input("in") {}
                return nil
            }
            // Only the start of an answer is kept (for rejects): 1 MB each is plenty.
            let session = try HTTPSession(node.endpoint, maxBodyBytes: 1 << 20) { context.log(.warning, $0) }
            var pending: [RecordBatch] = []
            var pendingRows = 0
            var sent = 0, refused = 0, requests = 0, rowBase = 0
            func flush(_ limit: Int) async throws {
                while pendingRows >= limit, pendingRows > 0 {
                    let (chunk, rest) = Self.split(pending, rows: node.batchSize)
                    pending = rest
                    pendingRows -= chunk.reduce(0) { $0 + $1.count }
                    let count = chunk.reduce(0) { $0 + $1.count }
                    requests += 1
                    let reply = try await session.send(request(body: Self.body(chunk, format: node.format), key: "\(context.runID)-\(requests)"))
                    try check(reply)
                    if reply.status >= 400 {
                        refused += count
                        var rejects: [RejectedRecord] = []
                        var row = rowBase
                        for batch in chunk {
                            for i in 0..<batch.count {
                                rejects.append(reject(batch, i, row, reply))
                                row += 1
                            }
                        }
                        try await context.reject(rejects)
                    } else {
                        sent += count
                    }
                    rowBase += count
                }
            }
            for try await batch in context.input("in") {
                if node.format == .row {
                    let (ok, rejected) = try await sendRows(batch, session: session, context: context, rowBase: rowBase)
                    sent += ok
                    refused += rejected
                    requests += batch.count
                    rowBase += batch.count
                    continue
                }
                pending.append(batch)
                pendingRows += batch.count
                try await flush(node.batchSize)
            }
            try await flush(1)
            context.log(.info, "sent \(sent) row(s) in \(requests) request(s)" + (refused > 0 ? "; \(refused) refused by the API (rejected)" : ""))
            return nil
        }

        /// One request per row, `concurrency` at a time; returns how many were taken and refused.
        func sendRows(_ batch: RecordBatch, session: HTTPSession, context: any NodeContext, rowBase: Int) async throws -> (Int, Int) {
            let requests = (0..<batch.count).map { i -> OutgoingRequest in
                let values = TextTemplate.values(of: batch, row: i)
                var body = ""
                if let template = node.templates.body { body = template.render(values) } else { RowJSON.object(batch, row: i, into: &body) }
                return request(body: Array(body.utf8), key: "\(context.runID)-row-\(rowBase + i)", values: values)
            }
            let replies = try await InOrder.map(requests, concurrency: node.concurrency) { try await session.send($0) }
            var rejects: [RejectedRecord] = []
            for (i, reply) in replies.enumerated() {
                try check(reply)
                if reply.status >= 400 { rejects.append(reject(batch, i, rowBase + i, reply)) }
            }
            if !rejects.isEmpty { try await context.reject(rejects) }
            return (batch.count - rejects.count, rejects.count)
        }

        /// A 5xx after the retries (or an unexpected redirect) fails the node; a 4xx is the rows' fault.
        func check(_ reply: HTTPReply) throws {
            guard reply.status < 300 || (400..<500).contains(reply.status) else {
                throw NodeError(code: "http_status", message: "\(node.method) \(node.endpoint.redacted(reply.url)) answered \(reply.status)",
                                isRetryable: reply.status >= 500, cause: reply.excerpt)
            }
        }

        func request(body: [UInt8], key: String, values: [String: Any] = [:]) -> OutgoingRequest {
            var headers = node.templates.headers.map { (name: $0.name, value: $0.template.render(values)) }
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                headers.append(("Content-Type", node.format == .jsonl ? "application/x-ndjson" : "application/json"))
            }
            if let header = node.idempotencyHeader { headers.append((header, key)) }
            let url = node.endpoint.url(path: node.templates.path.render(values), query: node.templates.query.map { ($0.name, $0.template.render(values)) })
            return OutgoingRequest(method: node.method, url: url, headers: headers, body: body)
        }

        func reject(_ batch: RecordBatch, _ i: Int, _ row: Int, _ reply: HTTPReply) -> RejectedRecord {
            RejectedRecord(code: "http_status", message: "\(node.endpoint.redacted(reply.url)) answered \(reply.status): \(reply.excerpt)", row: row,
                           payload: .row(batch.schema.fields.enumerated().map { ($1.name, batch.columns[$0].value(at: i)) }))
        }

        static func body(_ batches: [RecordBatch], format: WriteFormat) -> [UInt8] {
            var out = format == .json ? "[" : ""
            var first = true
            for batch in batches {
                for i in 0..<batch.count {
                    if format == .json, !first { out += "," }
                    first = false
                    RowJSON.object(batch, row: i, into: &out)
                    if format == .jsonl { out += "\n" }
                }
            }
            if format == .json { out += "]" }
            return Array(out.utf8)
        }

        /// The first `rows` rows of `batches`, and the rest.
        static func split(_ batches: [RecordBatch], rows: Int) -> ([RecordBatch], [RecordBatch]) {
            var taken: [RecordBatch] = []
            var rest = batches[...]
            var needed = rows
            while needed > 0, let batch = rest.first {
                if batch.count <= needed {
                    taken.append(batch)
                    needed -= batch.count
                    rest = rest.dropFirst()
                } else {
                    taken.append(batch.slice(0..<needed))
                    rest[rest.startIndex] = batch.slice(needed..<batch.count)
                    needed = 0
                }
            }
            return (taken, Array(rest))
        }
    }
}

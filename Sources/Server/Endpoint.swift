import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Services
import Store

/// Who may call an endpoint before any per-pipeline sharing check.
public enum Access: Sendable {
    case anyone, user, admin
}

/// One API operation, declared once: the router registers it and the OpenAPI document describes it
/// from the same value, so the two cannot disagree.
public struct Endpoint: Sendable {
    public let method: HTTPRequest.Method
    /// OpenAPI-style path: `/api/v1/pipelines/{id}`.
    public let path: String
    public let operationID: String
    public let summary: String
    public let tag: String
    public let access: Access
    public let query: [QueryParameter]
    public let requestSchema: JSONValue?
    public let status: HTTPResponse.Status
    /// The success body's schema; nil for 204.
    public let responseSchema: JSONValue?
    /// Content type of the success body (JSON unless a download).
    public let contentType: String
    /// Other content types the success body may have (e.g. CSV on request).
    public let alternativeContentTypes: [String]
    /// Error statuses this endpoint answers besides the ones every endpoint of its shape does (see `errorStatuses`):
    /// 502 when it reaches another server, 413 for a raw body, 426 for a protocol upgrade, ….
    public let errors: [HTTPResponse.Status]
    /// The body is a file's raw bytes, streamed to the handler (`call.request.body`) instead of collected.
    public let streamsBody: Bool
    let handler: @Sendable (APICall) async throws -> APIReply

    init(_ method: HTTPRequest.Method, _ path: String, _ operationID: String, _ summary: String, tag: String, access: Access = .user,
         query: [QueryParameter] = [], request: JSONValue? = nil, status: HTTPResponse.Status = .ok, response: JSONValue?,
         contentType: String = "application/json", alternativeContentTypes: [String] = [], errors: [HTTPResponse.Status] = [],
         streamsBody: Bool = false, handler: @escaping @Sendable (APICall) async throws -> APIReply) {
        self.method = method
        self.path = path
        self.operationID = operationID
        self.summary = summary
        self.tag = tag
        self.access = access
        self.query = query
        self.requestSchema = request
        self.status = status
        self.responseSchema = response
        self.contentType = contentType
        self.alternativeContentTypes = alternativeContentTypes
        self.errors = errors
        self.streamsBody = streamsBody
        self.handler = handler
    }

    /// Every error status the endpoint may answer, for the OpenAPI document: those of any endpoint (a bad request,
    /// credentials, throttling, a failure, an unavailable store; public endpoints refuse wrong passwords and spent
    /// tokens with 401/403 too), 404 for a path naming a resource, 409 and 422 for a change that conflicts or does
    /// not validate, 413 for a body over the limit, and the endpoint's own `errors`.
    var errorStatuses: [Int] {
        var statuses: Set<Int> = [400, 401, 403, 429, 500, 503]
        if !pathParameters.isEmpty { statuses.insert(404) }
        if method != .get { statuses.formUnion([409, 422]) }
        if requestSchema != nil { statuses.insert(413) }
        statuses.formUnion(errors.map(\.code))
        return statuses.sorted()
    }

    /// The path in Hummingbird's syntax (`:id`).
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : String(part)
        }.joined(separator: "/")
    }

    var pathParameters: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }
}

/// A query-string parameter an endpoint accepts.
public struct QueryParameter: Sendable {
    public let name: String
    public let schema: JSONValue
    public let description: String
}

/// One incoming call, authenticated according to its endpoint.
struct APICall: Sendable {
    let request: Request
    let context: AppContext
    let body: ByteBuffer?
    /// The caller; nil only on `.anyone` endpoints without credentials.
    let user: User?
    let state: ServerState

    var address: String? { context.remoteAddress?.ipAddress }

    func parameter(_ name: String) -> String { context.parameters.get(name) ?? "" }

    func query(_ name: String) -> String? { request.uri.queryParameters.get(name) }

    func queryInt(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError.invalid("query parameter '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)", field: name)
        }
        return number
    }

    /// Query parameter `name` as Unix milliseconds, if given.
    func queryMillis(_ name: String) throws -> Int64? {
        try query(name).map { text in
            guard let value = Int64(text) else { throw APIError.invalid("\(name) must be a time in Unix milliseconds", field: name) }
            return value
        }
    }

    /// The caller and their address (for `.user`/`.admin` endpoints, always present), as the services take them.
    var caller: Caller {
        get throws { guard let user else { throw APIError.unauthenticated }; return Caller(user, address: address) }
    }

    /// The application services every handler goes through.
    var services: Services { state.services }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard let body, body.readableBytes > 0 else { throw APIError.invalid("this request needs a JSON body") }
        do {
            return try JSONCoding.decoder.decode(T.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.from(error)
        }
    }
}

/// A reply: status, content type and body bytes.
struct APIReply: Sendable {
    var status: HTTPResponse.Status
    var contentType: String
    var body: Data
    var headers: [(HTTPField.Name, String)] = []

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> APIReply {
        APIReply(status: status, contentType: "application/json", body: try JSONCoding.encoder.encode(value))
    }

    static let noContent = APIReply(status: .noContent, contentType: "application/json", body: Data())
}

/// The API's JSON conventions: snake_case keys, sorted output.
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}

/// JSON Schema fragments for the OpenAPI document.
enum APISchema {
    static let string: JSONValue = .object(["type": .string("string")])
    static let integer: JSONValue = .object(["type": .string("integer")])
    static let number: JSONValue = .object(["type": .string("number")])
    static let boolean: JSONValue = .object(["type": .string("boolean")])
    static let any: JSONValue = .object([:])
    static let binary: JSONValue = .object(["type": .string("string"), "format": .string("binary")])
    static let anyObject: JSONValue = .object(["type": .string("object")])

    /// The schema of a request or response type, derived from its `Decodable` conformance.
    static func of<T: Decodable>(_ type: T.Type) -> JSONValue { SchemaDerivation.schema(of: type) }

    static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    static func array(_ items: JSONValue) -> JSONValue { .object(["type": .string("array"), "items": items]) }
    static func nullable(_ schema: JSONValue) -> JSONValue { .object(["anyOf": .array([schema, .object(["type": .string("null")])])]) }
    static func enumeration(_ values: [String]) -> JSONValue { .object(["type": .string("string"), "enum": .array(values.map(JSONValue.string))]) }
    static func map(_ values: JSONValue) -> JSONValue { .object(["type": .string("object"), "additionalProperties": values]) }

    /// An object; every property is required unless listed in `optional`.
    static func object(_ properties: [String: JSONValue], optional: Set<String> = []) -> JSONValue {
        .object(["type": .string("object"), "properties": .object(properties),
                 "required": .array(properties.keys.filter { !optional.contains($0) }.sorted().map(JSONValue.string))])
    }
}

/// A response body type that describes itself: its OpenAPI schema is derived from its own `Codable`
/// conformance (`SchemaDerivation`), so the document cannot disagree with what the route encodes.
protocol APIView: Codable {}

extension APIView {
    static var schema: JSONValue { SchemaDerivation.schema(of: Self.self) }
}

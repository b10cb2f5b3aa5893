import Foundation

/// The OpenAPI 3.1 document, generated from the endpoint table the router is built from.
enum OpenAPIDocument {
    static let components: [String: JSONValue] = [
        "User": UserRoutes.schema, "Connection": ConnectionRoutes.schema, "Pipeline": PipelineRoutes.schema,
        "Revision": PipelineRoutes.revisionSchema, "Run": RunRoutes.schema,
        "Error": Schema.object(["error": Schema.object(["code": Schema.string, "message": Schema.string, "node": Schema.nullable(Schema.string),
                                                        "field": Schema.nullable(Schema.string)])]),
    ]

    static let endpoint = Endpoint(.get, "/api/v1/openapi.json", "openapi", "This document.", tag: "system", access: .anyone, response: Schema.anyObject) { _ in
        APIReply(status: .ok, contentType: "application/json", body: text)
    }

    /// The document's bytes, built once: the endpoint table does not change while the process runs.
    static let text = Data(document(APIRouter.endpoints()).text.utf8)

    static func document(_ endpoints: [Endpoint]) -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for endpoint in endpoints {
            paths[endpoint.path, default: [:]][endpoint.method.rawValue.lowercased()] = operation(endpoint)
        }
        return .object([
            "openapi": .string("3.1.0"),
            "info": .object(["title": .string("Sluice API"), "version": .string("1"),
                             "description": .string("Pipelines, connections, runs and users of a Sluice server. Errors always use the envelope {\"error\":{\"code\",\"message\",\"node\",\"field\"}}.")]),
            "paths": .object(paths.mapValues { JSONValue.object($0) }),
            "components": .object([
                "schemas": .object(components),
                "securitySchemes": .object(["bearer": .object(["type": .string("http"), "scheme": .string("bearer"), "bearerFormat": .string("JWT or sla_ API token")])]),
            ]),
        ])
    }

    static func operation(_ endpoint: Endpoint) -> JSONValue {
        var responses: [String: JSONValue] = [:]
        let success: JSONValue = endpoint.responseSchema.map { schema in
            .object(["description": .string("success"), "content": .object([endpoint.contentType.split(separator: ";")[0].description: .object(["schema": schema])])])
        } ?? .object(["description": .string("success, no body")])
        responses[String(endpoint.status.code)] = success
        let error = JSONValue.object(["description": .string("error"), "content": .object(["application/json": .object(["schema": Schema.ref("Error")])])])
        var statuses = ["400", "429", "500", "503"]
        if endpoint.access != .anyone { statuses += ["401", "403"] }
        if !endpoint.pathParameters.isEmpty { statuses.append("404") }
        if endpoint.method == .put || endpoint.method == .post { statuses += ["409", "422"] }
        if endpoint.path.hasSuffix("/discover") || endpoint.path.contains("/state") { statuses.append("502") }
        if endpoint.status == .switchingProtocols { statuses.append("426") }
        for status in statuses { responses[status] = error }
        var parameters: [JSONValue] = endpoint.pathParameters.map {
            .object(["name": .string($0), "in": .string("path"), "required": .bool(true), "schema": Schema.string])
        }
        parameters += endpoint.query.map {
            .object(["name": .string($0.name), "in": .string("query"), "required": .bool(false), "schema": $0.schema, "description": .string($0.description)])
        }
        var operation: [String: JSONValue] = [
            "operationId": .string(endpoint.operationID), "summary": .string(endpoint.summary), "tags": .array([.string(endpoint.tag)]),
            "responses": .object(responses), "parameters": .array(parameters),
        ]
        operation["security"] = endpoint.access == .anyone ? .array([]) : .array([.object(["bearer": .array([])])])
        if let request = endpoint.requestSchema {
            operation["requestBody"] = .object(["required": .bool(true), "content": .object(["application/json": .object(["schema": request])])])
        }
        return .object(operation)
    }
}

import Foundation
import Store

/// The OpenAPI 3.1 document, generated from the endpoint table the router is built from.
enum OpenAPIDocument {
    static let components: [String: JSONValue] = [
        "User": UserRoutes.UserView.schema, "Connection": ConnectionRoutes.ConnectionView.schema, "Pipeline": PipelineRoutes.PipelineView.schema,
        "Revision": PipelineRoutes.RevisionView.schema, "Run": RunRoutes.RunView.schema, "Trigger": TriggerRoutes.TriggerView.schema,
        "Error": APISchema.object(["error": APISchema.object(["code": APISchema.string, "message": APISchema.string, "node": APISchema.nullable(APISchema.string),
                                                        "field": APISchema.nullable(APISchema.string)])]),
    ]

    static let endpoint = Endpoint(.get, "/api/v1/openapi.json", "openapi", "This document.", tag: "system", access: .anyone, response: APISchema.anyObject) { _ in
        APIReply(status: .ok, contentType: "application/json", body: text)
    }

    /// The document's bytes, built once: the endpoint table does not change while the process runs.
    static let text = Data(document(APIRouter.endpoints()).text.utf8)

    static func document(_ endpoints: [Endpoint]) -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for endpoint in endpoints {
            paths[endpoint.path, default: [:]][endpoint.method.rawValue.lowercased()] = operation(endpoint, endpoints)
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

    /// Links from a create operation to the operations on what it created (`/api/v1/runs/{id}` after starting a run),
    /// so clients and fuzzers can follow them.
    static func links(_ endpoint: Endpoint, _ all: [Endpoint]) -> [String: JSONValue] {
        guard endpoint.method == .post, endpoint.status == .created, let collection = endpoint.path.split(separator: "/").last, !collection.hasPrefix("{") else { return [:] }
        let item = "/api/v1/\(collection)/{id}"
        var links: [String: JSONValue] = [:]
        for target in all where target.path == item || target.path.hasPrefix(item + "/") {
            links[target.operationID] = .object(["operationId": .string(target.operationID), "parameters": .object(["id": .string("$response.body#/id")])])
        }
        return links
    }

    static func operation(_ endpoint: Endpoint, _ all: [Endpoint] = []) -> JSONValue {
        var responses: [String: JSONValue] = [:]
        var success: JSONValue = endpoint.responseSchema.map { schema in
            let types = [endpoint.contentType] + endpoint.alternativeContentTypes
            return .object(["description": .string("success"),
                            "content": .object(Dictionary(uniqueKeysWithValues: types.map { ($0.split(separator: ";")[0].description, JSONValue.object(["schema": schema])) }))])
        } ?? .object(["description": .string("success, no body")])
        if case var .object(fields) = success, !links(endpoint, all).isEmpty {
            fields["links"] = .object(links(endpoint, all))
            success = .object(fields)
        }
        responses[String(endpoint.status.code)] = success
        let error = JSONValue.object(["description": .string("error"), "content": .object(["application/json": .object(["schema": APISchema.ref("Error")])])])
        for status in endpoint.errorStatuses { responses[String(status)] = error }
        var parameters: [JSONValue] = endpoint.pathParameters.map {
            .object(["name": .string($0), "in": .string("path"), "required": .bool(true), "schema": APISchema.string])
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
            let type = endpoint.streamsBody ? "application/octet-stream" : "application/json"
            operation["requestBody"] = .object(["required": .bool(true), "content": .object([type: .object(["schema": request])])])
        }
        return .object(operation)
    }
}

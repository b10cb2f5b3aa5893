import BuiltinNodes
import Foundation
import NodeKit
import Runtime
import Scheduler
import Store
import Workers

/// Pipelines: CRUD with immutable revisions, diff, restore, validation, and per-pipeline sharing.
enum PipelineRoutes {
    struct PipelineView: Encodable, APIView {
        static let schema = APISchema.object(["id": APISchema.string, "name": APISchema.string, "current_revision": APISchema.integer, "created_by": APISchema.string,
                                           "created_at": APISchema.integer, "updated_at": APISchema.integer, "role": APISchema.enumeration(ShareRole.allCases.map(\.rawValue)),
                                           "document": APISchema.string], optional: ["document"])

        var id: String, name: String, currentRevision: Int64, createdBy: String, createdAt: Int64, updatedAt: Int64, role: String
        var document: String?
        init(_ p: PipelineRecord, role: ShareRole, document: String? = nil) {
            id = p.id; name = p.name; currentRevision = p.currentRevision; createdBy = p.createdBy; createdAt = p.createdAt; updatedAt = p.updatedAt
            self.role = role.rawValue; self.document = document
        }
    }
    struct RevisionView: Encodable, APIView {
        static let schema = APISchema.object(["revision": APISchema.integer, "author": APISchema.string, "message": APISchema.string, "created_at": APISchema.integer,
                                                   "document": APISchema.string], optional: ["document"])

        var revision: Int64, author: String, message: String, createdAt: Int64, document: String?
        init(_ r: PipelineRevision, withDocument: Bool) { revision = r.revision; author = r.author; message = r.message; createdAt = r.createdAt; document = withDocument ? r.document : nil }
    }
    /// A save: the document (YAML/JSON text, or a JSON object), a message, and for updates the revision it was based on.
    struct SaveInput: Decodable { var document: JSONValue; var message: String?; var baseRevision: Int64? }
    struct ValidateInput: Decodable { var document: JSONValue }
    struct ParseInput: Decodable { var document: String }
    struct Validation: Encodable { var valid: Bool; var problems: [JSONValue] }
    struct ShareInput: Codable { var role: String }

    static let saveSchema = APISchema.object(["document": .object(["anyOf": .array([APISchema.string, APISchema.anyObject])]), "message": APISchema.string,
                                           "base_revision": APISchema.integer], optional: ["message", "base_revision"])
    static let shareSchema = APISchema.object(["user_id": APISchema.string, "user_name": APISchema.string, "role": APISchema.enumeration(ShareRole.allCases.map(\.rawValue))])
    static let change = APISchema.object(["path": APISchema.string, "before": APISchema.nullable(APISchema.string), "after": APISchema.nullable(APISchema.string)], optional: ["before", "after"])
    static let diffSchema = APISchema.object([
        "nodes_added": APISchema.array(APISchema.string), "nodes_removed": APISchema.array(APISchema.string), "edges_added": APISchema.array(APISchema.string),
        "edges_removed": APISchema.array(APISchema.string), "settings_changed": APISchema.array(change),
        "nodes_changed": APISchema.array(APISchema.object(["id": APISchema.string, "type_before": APISchema.nullable(APISchema.string), "type_after": APISchema.nullable(APISchema.string),
                                                     "settings": APISchema.array(change)], optional: ["type_before", "type_after"])),
    ])

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/pipelines", "listPipelines", "Pipelines shared with you (all, for admins).", tag: "pipelines",
                 response: APISchema.array(APISchema.ref("Pipeline"))) { call in
            try .json(try await call.state.store.pipelines(visibleTo: try call.caller).map { PipelineView($0.0, role: $0.1) })
        },
        Endpoint(.post, "/api/v1/pipelines", "createPipeline", "Creates a pipeline (revision 1); you become its owner.", tag: "pipelines",
                 request: saveSchema, status: .created, response: APISchema.ref("Pipeline")) { call in
            let user = try call.caller
            let input = try call.decode(SaveInput.self)
            let (text, document) = try parse(input.document)
            let record = try await call.state.store.createPipeline(name: document.name, document: text, message: input.message ?? "created", author: user)
            try await DeclaredTriggers.sync(try DeclaredTriggers.definitions(document), pipeline: record, store: call.state.store, author: user.name)
            return try .json(PipelineView(record, role: .owner, document: text), status: .created)
        },
        Endpoint(.post, "/api/v1/pipelines/validate", "validatePipeline", "Checks a document without saving it: every problem with node, field and line.",
                 tag: "pipelines", request: APISchema.object(["document": .object(["anyOf": .array([APISchema.string, APISchema.anyObject])])]),
                 response: APISchema.object(["valid": APISchema.boolean, "problems": APISchema.array(APISchema.anyObject)])) { call in
            let input = try call.decode(ValidateInput.self)
            do {
                let (_, document) = try parse(input.document)
                _ = try await call.state.plan(document, as: try call.caller)
                return try .json(Validation(valid: true, problems: []))
            } catch let errors as ConfigErrors {
                return try .json(Validation(valid: false, problems: errors.errors.map(\.json)))
            } catch let error as APIError where error.status == .unprocessableContent {
                return try .json(Validation(valid: false, problems: (error.extra["problems"].flatMap { if case let .array(a) = $0 { a } else { nil } }) ?? []))
            }
        },
        Endpoint(.post, "/api/v1/pipelines/parse", "parsePipeline", "Reads a YAML document into its JSON form (for the editor); syntax errors name line and column.",
                 tag: "pipelines", request: APISchema.object(["document": APISchema.string]), response: APISchema.object(["document": APISchema.anyObject])) { call in
            let input = try call.decode(ParseInput.self)
            let root: Setting
            do throws(ConfigError) { root = try YAMLReader.read(input.document, file: "document") } catch {
                throw APIError(.unprocessableContent, error.code, error.description, field: "document")
            }
            guard case .map = root.kind else { throw APIError.invalid("a pipeline document is a mapping (apiVersion, name, nodes, edges)", field: "document") }
            return try .json(["document": JSONValue(root)])
        },
        Endpoint(.get, "/api/v1/pipelines/{id}", "getPipeline", "A pipeline with its current document.", tag: "pipelines", response: APISchema.ref("Pipeline")) { call in
            let user = try call.caller
            let pipeline = try await call.state.requireRole(.viewer, on: call.parameter("id"), for: user)
            let revision = try await call.state.store.revision(pipelineID: pipeline.id, revision: pipeline.currentRevision)
            return try .json(PipelineView(pipeline, role: try await call.state.store.role(of: user, on: pipeline.id) ?? .viewer, document: revision?.document))
        },
        Endpoint(.put, "/api/v1/pipelines/{id}", "savePipeline", "Saves a new revision; 409 with the current revision when base_revision is stale.",
                 tag: "pipelines", request: saveSchema, response: APISchema.ref("Pipeline")) { call in
            let user = try call.caller
            let pipeline = try await call.state.requireRole(.editor, on: call.parameter("id"), for: user)
            let input = try call.decode(SaveInput.self)
            guard let base = input.baseRevision else { throw APIError.invalid("base_revision is required: the revision your edit started from", field: "base_revision") }
            let (text, document) = try parse(input.document)
            let saved = try await save(call, pipeline: pipeline, text: text, name: document.name, message: input.message ?? "saved", base: base)
            return try .json(PipelineView(saved, role: try await call.state.store.role(of: user, on: pipeline.id) ?? .editor, document: text))
        },
        Endpoint(.delete, "/api/v1/pipelines/{id}", "deletePipeline", "Deletes a pipeline, its revisions and runs.", tag: "pipelines", status: .noContent, response: nil) { call in
            let user = try call.caller
            let pipeline = try await call.state.requireRole(.owner, on: call.parameter("id"), for: user)
            _ = try await call.state.store.deletePipeline(id: pipeline.id)
            try await call.state.store.audit(actor: user.name, action: "pipeline_delete", target: pipeline.name, address: call.address)
            return .noContent
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/revisions", "listRevisions", "Every revision, newest first (without documents).", tag: "pipelines",
                 response: APISchema.array(APISchema.ref("Revision"))) { call in
            let pipeline = try await call.state.requireRole(.viewer, on: call.parameter("id"), for: try call.caller)
            return try .json(try await call.state.store.revisions(pipelineID: pipeline.id).map { RevisionView($0, withDocument: false) })
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/revisions/{revision}", "getRevision", "One revision with its document.", tag: "pipelines",
                 response: APISchema.ref("Revision")) { call in
            let pipeline = try await call.state.requireRole(.viewer, on: call.parameter("id"), for: try call.caller)
            return try .json(RevisionView(try await revision(call, pipeline, call.parameter("revision")), withDocument: true))
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/diff", "diffRevisions", "Node, edge and setting differences between two revisions (?from=1&to=2).",
                 tag: "pipelines", query: [QueryParameter(name: "from", schema: APISchema.integer, description: "older revision"),
                                           QueryParameter(name: "to", schema: APISchema.integer, description: "newer revision (default: current)")],
                 response: diffSchema) { call in
            let pipeline = try await call.state.requireRole(.viewer, on: call.parameter("id"), for: try call.caller)
            guard let fromText = call.query("from") else { throw APIError.invalid("give ?from=REVISION", field: "from") }
            let old = try await revision(call, pipeline, fromText), new = try await revision(call, pipeline, call.query("to") ?? String(pipeline.currentRevision))
            return try .json(PipelineDiff(from: try PipelineDocument.parse(old.document), to: try PipelineDocument.parse(new.document)))
        },
        Endpoint(.post, "/api/v1/pipelines/{id}/revisions/{revision}/restore", "restoreRevision", "Saves an old revision's document as the new current revision.",
                 tag: "pipelines", response: APISchema.ref("Pipeline")) { call in
            let user = try call.caller
            let pipeline = try await call.state.requireRole(.editor, on: call.parameter("id"), for: user)
            let old = try await revision(call, pipeline, call.parameter("revision"))
            let name = (try? PipelineDocument.parse(old.document).name) ?? pipeline.name
            let saved = try await save(call, pipeline: pipeline, text: old.document, name: name, message: "restored revision \(old.revision)", base: pipeline.currentRevision)
            return try .json(PipelineView(saved, role: try await call.state.store.role(of: user, on: pipeline.id) ?? .editor, document: old.document))
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/shares", "listShares", "Who the pipeline is shared with.", tag: "sharing",
                 response: APISchema.array(shareSchema)) { call in
            let pipeline = try await call.state.requireRole(.viewer, on: call.parameter("id"), for: try call.caller)
            return try .json(try await call.state.store.shares(pipelineID: pipeline.id).map { ShareView(userId: $0.userID, userName: $0.userName, role: $0.role.rawValue) })
        },
        Endpoint(.put, "/api/v1/pipelines/{id}/shares/{user}", "setShare", "Shares the pipeline with a user (by id) in a role; owners only.", tag: "sharing",
                 request: APISchema.object(["role": APISchema.enumeration(ShareRole.allCases.map(\.rawValue))]), response: shareSchema) { call in
            let user = try call.caller
            let pipeline = try await call.state.requireRole(.owner, on: call.parameter("id"), for: user)
            guard let role = ShareRole(rawValue: try call.decode(ShareInput.self).role) else { throw APIError.invalid("role must be viewer, runner, editor or owner", field: "role") }
            guard let target = try await call.state.store.user(id: call.parameter("user")) else { throw APIError.notFound("user") }
            try await call.state.store.setShare(pipelineID: pipeline.id, userID: target.id, role: role)
            try await call.state.store.audit(actor: user.name, action: "share", target: pipeline.name, detail: "\(target.name): \(role.rawValue)", address: call.address)
            return try .json(ShareView(userId: target.id, userName: target.name, role: role.rawValue))
        },
        Endpoint(.delete, "/api/v1/pipelines/{id}/shares/{user}", "deleteShare", "Stops sharing the pipeline with a user; owners only.", tag: "sharing",
                 status: .noContent, response: nil) { call in
            let user = try call.caller
            let pipeline = try await call.state.requireRole(.owner, on: call.parameter("id"), for: user)
            let shares = try await call.state.store.shares(pipelineID: pipeline.id)
            if shares.first(where: { $0.userID == call.parameter("user") })?.role == .owner, shares.filter({ $0.role == .owner }).count <= 1 {
                throw APIError(.conflict, "last_owner", "a pipeline keeps at least one owner")
            }
            try await call.state.store.setShare(pipelineID: pipeline.id, userID: call.parameter("user"), role: nil)
            try await call.state.store.audit(actor: user.name, action: "unshare", target: pipeline.name, detail: call.parameter("user"), address: call.address)
            return .noContent
        },
    ]

    /// The document's text as stored (YAML/JSON text as given, or a JSON object's text) and its parsed form.
    static func parse(_ value: JSONValue) throws -> (String, PipelineDocument) {
        let text: String
        switch value {
        case let .string(s): text = s
        case .object: text = value.text
        default: throw APIError.invalid("document must be YAML/JSON text or a JSON object", field: "document")
        }
        let document = try PipelineDocument.parse(text, file: "document")
        _ = try DeclaredTriggers.definitions(document)
        return (text, document)
    }

    static func revision(_ call: APICall, _ pipeline: PipelineRecord, _ text: String) async throws -> PipelineRevision {
        guard let number = Int64(text), let revision = try await call.state.store.revision(pipelineID: pipeline.id, revision: number) else {
            throw APIError.notFound("revision '\(text)'")
        }
        return revision
    }

    static func save(_ call: APICall, pipeline: PipelineRecord, text: String, name: String, message: String, base: Int64) async throws -> PipelineRecord {
        do {
            guard let saved = try await call.state.store.savePipeline(id: pipeline.id, name: name, document: text, message: message, author: try call.caller, base: base) else {
                throw APIError.notFound("pipeline")
            }
            if let document = try? PipelineDocument.parse(text, file: "document") {
                try await DeclaredTriggers.sync(try DeclaredTriggers.definitions(document), pipeline: saved, store: call.state.store, author: try call.caller.name)
            }
            return saved
        } catch let stale as StaleRevision {
            throw APIError(.conflict, "stale_revision", "someone saved revision \(stale.current) after the revision \(base) you edited; reload and re-apply your change",
                           extra: ["current_revision": .int(stale.current)])
        }
    }
}

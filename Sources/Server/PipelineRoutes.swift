import BuiltinNodes
import Columnar
import Foundation
import NodeKit
import Runtime
import Services
import Store

/// Pipelines: CRUD with immutable revisions, diff, restore, validation, and per-pipeline sharing.
enum PipelineRoutes {
    /// A pipeline; `role` is the caller's, `document` the current revision's text (on single reads).
    struct PipelineView: APIView {
        var id: String, name: String, currentRevision: Int64, createdBy: String, createdAt: Int64, updatedAt: Int64, role: ShareRole
        var document: String?
        init(_ p: PipelineRecord, role: ShareRole, document: String? = nil) {
            id = p.id; name = p.name; currentRevision = p.currentRevision; createdBy = p.createdBy; createdAt = p.createdAt; updatedAt = p.updatedAt
            self.role = role; self.document = document
        }
    }
    /// One revision; `document` only when one revision is read.
    struct RevisionView: APIView {
        var revision: Int64, author: String, message: String, createdAt: Int64, document: String?, contributors: [String]
        init(_ r: PipelineRevision, withDocument: Bool) {
            revision = r.revision; author = r.author; message = r.message; createdAt = r.createdAt; document = withDocument ? r.document : nil
            contributors = r.contributors
        }
    }
    /// A save: the document (YAML/JSON text, or a JSON object), a message, and for updates the revision it was based on.
    /// `live_seq`: saved from the live editor, the last operation of the working copy the document holds.
    struct SaveInput: Decodable { var document: JSONValue; var message: String?; var baseRevision: Int64?; var liveSeq: Int64? }
    struct ValidateInput: Decodable { var document: JSONValue }
    struct ParseInput: Decodable { var document: String }
    /// Whether a document validates, every problem (code, message, node, field, line, column), and the output
    /// columns of every node that could be checked (node → port → columns), which the editor offers in its forms.
    /// `notes` says what planning noticed per node though nothing is wrong (a column inferred as string because
    /// of one odd value).
    struct Validation: APIView {
        var valid: Bool; var problems: [[String: JSONValue]]; var schemas: [String: [String: [PreviewRoutes.Column]]]; var notes: [String: [String]]
        init(valid: Bool, problems: [[String: JSONValue]], schemas: [String: [String: Schema]] = [:], notes: [String: [String]] = [:]) {
            self.valid = valid
            self.problems = problems
            self.schemas = schemas.mapValues { ports in ports.mapValues { $0.fields.map { PreviewRoutes.Column(name: $0.name, type: $0.type.description) } } }
            self.notes = notes
        }
    }
    /// A YAML document read into its JSON form.
    struct Parsed: APIView { var document: [String: JSONValue] }
    struct ShareInput: Codable { var role: ShareRole }

    static let saveSchema = APISchema.of(SaveInput.self)

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/pipelines", "listPipelines", "Pipelines shared with you (all, for admins).", tag: "pipelines",
                 response: APISchema.array(APISchema.ref("Pipeline"))) { call in
            try .json(try await call.services.pipelines.list(for: try call.caller).map { PipelineView($0.0, role: $0.1) })
        },
        Endpoint(.post, "/api/v1/pipelines", "createPipeline", "Creates a pipeline (revision 1); you become its owner.", tag: "pipelines",
                 request: saveSchema, status: .created, response: APISchema.ref("Pipeline")) { call in
            let input = try call.decode(SaveInput.self)
            let source = try PipelineSource(input.document)
            let record = try await call.services.pipelines.create(source, message: input.message, by: try call.caller)
            return try .json(PipelineView(record, role: .owner, document: source.text), status: .created)
        },
        Endpoint(.post, "/api/v1/pipelines/validate", "validatePipeline", "Checks a document without saving it: every problem with node, field and line.",
                 tag: "pipelines", request: APISchema.of(ValidateInput.self), response: Validation.schema) { call in
            let input = try call.decode(ValidateInput.self)
            do {
                let plan = try await call.services.pipelines.validate(try PipelineSource(input.document), for: try call.caller)
                return try .json(Validation(valid: true, problems: [], schemas: plan.fullSchemas, notes: plan.notes))
            } catch let errors as ConfigErrors {
                return try .json(Validation(valid: false, problems: errors.errors.compactMap(\.json.objectValue), schemas: errors.schemas, notes: errors.notes))
            } catch let error as ConfigError {
                return try .json(Validation(valid: false, problems: [error.json.objectValue ?? [:]]))
            }
        },
        Endpoint(.post, "/api/v1/pipelines/parse", "parsePipeline", "Reads a YAML document into its JSON form (for the editor); syntax errors name line and column.",
                 tag: "pipelines", request: APISchema.of(ParseInput.self), response: Parsed.schema) { call in
            let input = try call.decode(ParseInput.self)
            let root: Setting
            do throws(ConfigError) { root = try YAMLReader.read(input.document, file: "document") } catch {
                throw APIError(.unprocessableContent, error.code, error.description, field: "document")
            }
            guard case .map = root.kind else { throw APIError.invalid("a pipeline document is a mapping (apiVersion, name, nodes, edges)", field: "document") }
            // Written by hand so that mappings keep their keys' order (a switch's cases are tried in order).
            return APIReply(status: .ok, contentType: "application/json", body: Data("{\"document\":\(root.orderedJSON)}".utf8))
        },
        Endpoint(.get, "/api/v1/pipelines/{id}", "getPipeline", "A pipeline with its current document.", tag: "pipelines", response: APISchema.ref("Pipeline")) { call in
            let found = try await call.services.pipelines.get(call.parameter("id"), for: try call.caller)
            return try .json(PipelineView(found.record, role: found.role, document: found.document))
        },
        Endpoint(.put, "/api/v1/pipelines/{id}", "savePipeline", "Saves a new revision; 409 with the current revision when base_revision is stale.",
                 tag: "pipelines", request: saveSchema, response: APISchema.ref("Pipeline")) { call in
            let saved = try await call.services.pipelines.save(call.parameter("id"), by: try call.caller) {
                let input = try call.decode(SaveInput.self)
                return PipelineEdit(source: try PipelineSource(input.document), message: input.message, base: input.baseRevision, liveSeq: input.liveSeq)
            }
            return try .json(PipelineView(saved.record, role: saved.role, document: saved.text))
        },
        Endpoint(.delete, "/api/v1/pipelines/{id}", "deletePipeline", "Deletes a pipeline, its revisions and runs.", tag: "pipelines", status: .noContent, response: nil) { call in
            try await call.services.pipelines.delete(call.parameter("id"), by: try call.caller)
            return .noContent
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/revisions", "listRevisions", "Every revision, newest first (without documents).", tag: "pipelines",
                 response: APISchema.array(APISchema.ref("Revision"))) { call in
            try .json(try await call.services.pipelines.revisions(call.parameter("id"), for: try call.caller).map { RevisionView($0, withDocument: false) })
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/revisions/{revision}", "getRevision", "One revision with its document.", tag: "pipelines",
                 response: APISchema.ref("Revision")) { call in
            try .json(RevisionView(try await call.services.pipelines.revision(call.parameter("id"), call.parameter("revision"), for: try call.caller), withDocument: true))
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/diff", "diffRevisions", "Node, edge and setting differences between two revisions (?from=1&to=2).",
                 tag: "pipelines", query: [QueryParameter(name: "from", schema: APISchema.integer, description: "older revision"),
                                           QueryParameter(name: "to", schema: APISchema.integer, description: "newer revision (default: current)")],
                 response: PipelineDiff.schema) { call in
            let documents = try await call.services.pipelines.documents(call.parameter("id"), from: call.query("from"), to: call.query("to"), for: try call.caller)
            return try .json(PipelineDiff(from: documents.from, to: documents.to))
        },
        Endpoint(.post, "/api/v1/pipelines/{id}/revisions/{revision}/restore", "restoreRevision", "Saves an old revision's document as the new current revision.",
                 tag: "pipelines", response: APISchema.ref("Pipeline")) { call in
            let restored = try await call.services.pipelines.restore(call.parameter("id"), revision: call.parameter("revision"), by: try call.caller)
            return try .json(PipelineView(restored.record, role: restored.role, document: restored.document))
        },
        Endpoint(.get, "/api/v1/pipelines/{id}/shares", "listShares", "Who the pipeline is shared with.", tag: "sharing",
                 response: APISchema.array(ShareView.schema)) { call in
            try .json(try await call.services.pipelines.shares(call.parameter("id"), for: try call.caller).map(ShareView.init))
        },
        Endpoint(.put, "/api/v1/pipelines/{id}/shares/{user}", "setShare", "Shares the pipeline with a user (by id) in a role; owners only.", tag: "sharing",
                 request: APISchema.of(ShareInput.self), response: ShareView.schema) { call in
            let share = try await call.services.pipelines.share(call.parameter("id"), with: call.parameter("user"), by: try call.caller) {
                try call.decode(ShareInput.self).role.rawValue
            }
            return try .json(ShareView(share))
        },
        Endpoint(.delete, "/api/v1/pipelines/{id}/shares/{user}", "deleteShare", "Stops sharing the pipeline with a user; owners only.", tag: "sharing",
                 status: .noContent, response: nil) { call in
            try await call.services.pipelines.unshare(call.parameter("id"), with: call.parameter("user"), by: try call.caller)
            return .noContent
        },
    ]
}

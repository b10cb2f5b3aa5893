import Foundation
import Scheduler
import Services
import Store

/// Triggers over HTTP: CRUD, enable/disable, fire now, history of firings, webhook secret rotation. Access follows
/// the linked pipelines (the `Triggers` service's rule); triggers declared in a pipeline document answer 409 to changes.
enum TriggerRoutes {
    struct LinkView: Codable { var pipelineId: String; var parameters: [String: String] }
    /// A trigger with its state; `problem` says why a stored definition no longer validates.
    struct TriggerView: APIView {
        var id: String, name: String, kind: String, settings: [String: JSONValue], rule: String?, enabled: Bool, overlap: String, missed: String
        var missedCap: Int64, declaredIn: String?, pipelines: [LinkView], state: [String: JSONValue], hasSecret: Bool, createdBy: String
        var createdAt: Int64, updatedAt: Int64
        /// Shown once: on creating a webhook trigger and on rotating its secret.
        var secret: String?
        var webhookPath: String?
        /// Why the stored definition no longer validates (it does not fire until it is saved again), or nil.
        var problem: String?
        /// When it fires, in words; its next three fire times (Unix ms; time triggers while enabled).
        var schedule: String?
        var nextFires: [Int64]?
        /// Its last firing, and the status of the run that firing queued.
        var lastFiring: FiringView?
        var lastRunStatus: String?
        /// Problems its pipelines have only when run on a schedule (totals appended to a table).
        var warnings: [String]?

        init(_ t: TriggerRecord, secret: String? = nil) {
            id = t.id; name = t.name; kind = t.kind; settings = JSONValue.parse(t.settingsJSON)?.objectValue ?? [:]; rule = t.rule; enabled = t.enabled
            overlap = t.overlap; missed = t.missed; missedCap = t.missedCap; declaredIn = t.declaredIn
            pipelines = t.links.map { LinkView(pipelineId: $0.pipelineID, parameters: $0.parameters) }
            state = JSONValue.parse(t.stateJSON)?.objectValue ?? [:]; hasSecret = t.hasSecret; createdBy = t.createdBy
            createdAt = t.createdAt; updatedAt = t.updatedAt; self.secret = secret
            webhookPath = t.kind == WebhookTrigger.name ? "/hooks/\(t.id)" : nil
            do { _ = try TriggerDefinition.load(t) } catch { problem = "\(error.field.map { "\($0): " } ?? "")\(error.message)" }
        }

        init(_ t: TriggerRecord, glance: TriggerAtAGlance) {
            self.init(t)
            schedule = glance.schedule
            nextFires = glance.nextFires
            lastFiring = glance.lastFiring.map(FiringView.init)
            lastRunStatus = glance.lastRunStatus
            warnings = glance.warnings
        }
    }
    /// One firing: its event, the rule's result, the runs it queued, and its outcome (fired, filtered, skipped, failed, missed).
    struct FiringView: APIView {
        var id: String, at: Int64, event: [String: JSONValue], ruleResult: String, runs: [String], outcome: String, detail: String?
        init(_ f: TriggerFiring) {
            id = f.id; at = f.at; event = JSONValue.parse(f.eventJSON)?.objectValue ?? [:]; ruleResult = f.ruleResult; runs = f.runIDs; outcome = f.outcome; detail = f.detail
        }
    }
    struct FireInput: Decodable { var event: [String: JSONValue]? }
    /// A webhook trigger's new secret, shown once.
    struct Secret: APIView { var secret: String }

    // A trigger definition is read by `TriggerDefinition.parse` (which checks each kind's declared settings), not by a
    // Decodable type, so its request schema is written here, from the same enumerations the parser accepts.
    static let kinds = TriggerKinds.names
    static let linkSchema = APISchema.object(["pipeline_id": APISchema.string, "parameters": APISchema.map(APISchema.string)], optional: ["parameters"])
    static let inputSchema = APISchema.object([
        "name": APISchema.string, "kind": APISchema.enumeration(kinds), "settings": APISchema.anyObject, "rule": APISchema.nullable(APISchema.string),
        "enabled": APISchema.boolean, "overlap": APISchema.enumeration(OverlapPolicy.allCases.map(\.rawValue)),
        "missed": APISchema.enumeration(MissedPolicy.allCases.map(\.rawValue)), "missed_cap": APISchema.integer, "pipelines": APISchema.array(linkSchema),
    ], optional: ["settings", "rule", "enabled", "overlap", "missed", "missed_cap", "pipelines"])

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/v1/triggers", "listTriggers", "Triggers linked to pipelines you can see (all, for admins).", tag: "triggers",
                 response: APISchema.array(APISchema.ref("Trigger"))) { call in
            let triggers = call.services.triggers
            var views: [TriggerView] = []
            for trigger in try await triggers.list(for: try call.caller) { views.append(TriggerView(trigger, glance: await triggers.glance(trigger, now: Date()))) }
            return try .json(views)
        },
        Endpoint(.post, "/api/v1/triggers", "createTrigger",
                 "Creates a trigger. A webhook trigger's secret is in the response, once (rotate it to see a new one).", tag: "triggers",
                 request: inputSchema, status: .created, response: APISchema.ref("Trigger")) { call in
            let (record, secret) = try await call.services.triggers.create(try definition(call), by: try call.caller)
            return try .json(TriggerView(record, secret: secret), status: .created)
        },
        Endpoint(.get, "/api/v1/triggers/{id}", "getTrigger", "One trigger with its state.", tag: "triggers", response: APISchema.ref("Trigger")) { call in
            try .json(TriggerView(try await call.services.triggers.get(call.parameter("id"), for: try call.caller)))
        },
        Endpoint(.put, "/api/v1/triggers/{id}", "updateTrigger",
                 "Replaces a trigger's definition; changing its kind or settings resets its state. 409 for triggers declared in a pipeline document.",
                 tag: "triggers", request: inputSchema, response: APISchema.ref("Trigger")) { call in
            try .json(TriggerView(try await call.services.triggers.update(call.parameter("id"), by: try call.caller) { try definition(call) }))
        },
        Endpoint(.delete, "/api/v1/triggers/{id}", "deleteTrigger", "Deletes a trigger and its history (not the runs it started).", tag: "triggers",
                 status: .noContent, response: nil) { call in
            try await call.services.triggers.delete(call.parameter("id"), by: try call.caller)
            return .noContent
        },
        enableEndpoint(true),
        enableEndpoint(false),
        Endpoint(.post, "/api/v1/triggers/{id}/fire", "fireTrigger",
                 "Fires the trigger now with a manual event (optional `event` fields are added to it); the rule is not applied. Runner role.",
                 tag: "triggers", request: APISchema.of(FireInput.self), status: .created, response: FiringView.schema) { call in
            let firing = try await call.services.triggers.fire(call.parameter("id"), by: try call.caller) {
                (call.body?.readableBytes ?? 0) > 0 ? try call.decode(FireInput.self).event.map(JSONValue.object) : nil
            }
            return try .json(FiringView(firing), status: .created)
        },
        Endpoint(.get, "/api/v1/triggers/{id}/history", "triggerHistory", "The trigger's firings, newest first: event, rule result, runs created.",
                 tag: "triggers", query: [QueryParameter(name: "limit", schema: APISchema.integer, description: "at most this many (1–500, default 50)"),
                                          QueryParameter(name: "before", schema: APISchema.integer, description: "only firings before this time (Unix ms), for paging")],
                 response: APISchema.array(FiringView.schema)) { call in
            let limit = try call.queryInt("limit", default: 50, range: 1...500)
            let before = try call.queryMillis("before")
            return try .json(try await call.services.triggers.history(call.parameter("id"), limit: limit, before: before, for: try call.caller).map(FiringView.init))
        },
        Endpoint(.post, "/api/v1/triggers/{id}/secret", "rotateTriggerSecret", "Gives a webhook trigger a new secret (shown once); the old one stops working.",
                 tag: "triggers", response: Secret.schema) { call in
            try .json(Secret(secret: try await call.services.triggers.rotateSecret(call.parameter("id"), by: try call.caller)))
        },
    ]

    static func enableEndpoint(_ enabled: Bool) -> Endpoint {
        let verb = enabled ? "enable" : "disable"
        return Endpoint(.post, "/api/v1/triggers/{id}/\(verb)", "\(verb)Trigger", "\(verb.capitalized)s the trigger. Editor role.", tag: "triggers",
                        response: APISchema.ref("Trigger")) { call in
            try .json(TriggerView(try await call.services.triggers.setEnabled(call.parameter("id"), enabled, by: try call.caller)))
        }
    }

    /// The request body as a trigger definition's JSON.
    static func definition(_ call: APICall) throws -> JSONValue {
        guard let body = call.body, body.readableBytes > 0, let json = JSONValue.parse(String(buffer: body)) else {
            throw APIError.invalid("this request needs a JSON object body")
        }
        return json
    }
}

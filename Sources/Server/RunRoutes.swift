import Foundation
import NodeKit
import Runtime
import Services
import Store

/// Runs: start, list, inspect, cancel, logs (paged and followable), rejected records.
enum RunRoutes {
    /// A run; `nodes` (per-node status and counters) only when one run is read.
    struct RunView: APIView {
        var id: String, pipelineId: String, revision: Int64, parameters: [String: String], status: RunPhase, attempt: Int64, maxAttempts: Int64
        var requestedBy: String, queuedAt: Int64, startedAt: Int64?, finishedAt: Int64?, cancelRequested: Bool, error: String?, rejected: Int64
        var nodes: [RunNodeRecord]?
        /// The run whose rejected records this run replays.
        var replayOf: String?
        /// Set for a debug run: its breakpoints, whether its sinks commit at the end, and who controls it.
        var debug: RunDebugSettings?
        init(_ r: RunRecord, withNodes: Bool = false) {
            id = r.id; pipelineId = r.pipelineID; revision = r.revision; parameters = (try? RunParameters(jsonText: r.parametersJSON))?.values ?? [:]; status = r.phase
            attempt = r.attempt; maxAttempts = r.maxAttempts; requestedBy = r.requestedBy; queuedAt = r.queuedAt; startedAt = r.startedAt
            finishedAt = r.finishedAt; cancelRequested = r.cancelRequested; error = r.error; rejected = r.rejected; nodes = withNodes ? r.nodes : nil
            replayOf = r.replayOf; debug = r.debug
        }
    }
    struct ReplayInput: Decodable { var revision: Int64? }
    /// A debug run: pause at `breakpoints` (`NODE[:CONDITION]`, `FROM.PORT->TO.PORT[:CONDITION]`); sinks commit only with `commitOnFinish`.
    struct DebugInput: Decodable { var breakpoints: [String]; var commitOnFinish: Bool? }
    struct StartInput: Decodable { var revision: Int64?; var parameters: [String: String]?; var maxAttempts: Int64?; var debug: DebugInput? }
    struct DebugCommandInput: Decodable { var command: DebugCommand }
    /// Where a debug run is paused: the batch there (its first rows from `first_row`) and the row that met the condition.
    struct PauseView: APIView {
        var sequence: Int64, point: String, node: String, reason: String, batchRows: Int64, firstRow: Int64, matchingRow: Int64?
        var columns: [PreviewRoutes.Column]
        var rows: [[JSONValue]]
        /// Where each shown row came from, when known.
        var origins: [String?]
        init?(json: String) {
            guard let p = JSONValue.parse(json), case let .int(sequence)? = p["sequence"] else { return nil }
            self.sequence = sequence
            point = p["point"]?.stringValue ?? ""; node = p["node"]?.stringValue ?? ""; reason = p["reason"]?.stringValue ?? ""
            if case let .int(n)? = p["batch_rows"] { batchRows = n } else { batchRows = 0 }
            if case let .int(n)? = p["first_row"] { firstRow = n } else { firstRow = 0 }
            if case let .int(n)? = p["matching_row"] { matchingRow = n } else { matchingRow = nil }
            columns = (p["data"]?["columns"]?.arrayValue ?? []).map { PreviewRoutes.Column(name: $0["name"]?.stringValue ?? "", type: $0["type"]?.stringValue ?? "") }
            rows = (p["data"]?["rows"]?.arrayValue ?? []).map { $0.arrayValue ?? [] }
            let known = p["data"]?["origins"]?.arrayValue ?? []
            origins = rows.indices.map { known.indices.contains($0) ? known[$0].stringValue : nil }
        }
    }
    /// Whether a run is a debug run; for one, its breakpoints, whether it commits, who controls it, and where it is
    /// paused (none while it runs on or once it ended).
    struct DebugView: APIView {
        var debug: Bool
        var breakpoints: [String], commitOnFinish: Bool, controller: String?
        var paused: PauseView?
    }
    /// Log lines after a sequence number; `next` is the last one returned, `finished` once the run ended.
    struct LogPage: APIView { var lines: [RunLogLine]; var next: Int64; var finished: Bool }

    /// One node output's sample: its columns, the first rows (cells as JSON) and how many rows crossed it in all.
    struct SampleView: APIView {
        var node: String, port: String, rowsSeen: Int64
        var columns: [PreviewRoutes.Column]
        var rows: [[JSONValue]]
        /// Where each row came from ("orders: orders.csv line 12"; null when not known), one per row.
        var origins: [String?]
        init(_ record: RunSampleRecord) {
            node = record.node; port = record.port; rowsSeen = record.rowsSeen
            let sample = JSONValue.parse(record.sampleJSON)
            columns = (sample?["columns"]?.arrayValue ?? []).map { PreviewRoutes.Column(name: $0["name"]?.stringValue ?? "", type: $0["type"]?.stringValue ?? "") }
            rows = (sample?["rows"]?.arrayValue ?? []).map { $0.arrayValue ?? [] }
            let known = sample?["origins"]?.arrayValue ?? []
            origins = rows.indices.map { known.indices.contains($0) ? known[$0].stringValue : nil }
        }
    }
    struct SampleList: APIView { var samples: [SampleView] }

    /// One step of a node's work in a run (a SQL model, a data test): its outcome, rows, time, and the SQL that failed.
    struct StepView: APIView {
        var node: String, name: String, kind: String
        /// running, succeeded, warned, failed or skipped.
        var status: String
        var rows: Int?
        var durationMillis: Int64?
        var message: String?
        var sql: String?
        init(_ record: RunStepRecord) {
            node = record.node; name = record.step.name; kind = record.step.kind; status = record.step.status.rawValue
            rows = record.step.rows; durationMillis = record.step.durationMillis; message = record.step.message; sql = record.step.sql
        }
    }
    struct StepList: APIView { var steps: [StepView] }

    static let endpoints: [Endpoint] = [
        Endpoint(.post, "/api/v1/pipelines/{id}/runs", "startRun", "Queues a run of a revision (default: current) with parameters.", tag: "runs",
                 request: APISchema.of(StartInput.self),
                 status: .created, response: APISchema.ref("Run")) { call in
            let run = try await call.services.runs.start(pipeline: call.parameter("id"), by: try call.caller) {
                let input: StartInput = (call.body?.readableBytes ?? 0) > 0 ? try call.decode(StartInput.self) : StartInput()
                return RunRequest(revision: input.revision, parameters: input.parameters ?? [:], maxAttempts: input.maxAttempts,
                                  debug: input.debug.map { DebugRequest(breakpoints: $0.breakpoints, commitOnFinish: $0.commitOnFinish ?? false) })
            }
            return try .json(RunView(run), status: .created)
        },
        Endpoint(.get, "/api/v1/runs", "listRuns", "Runs you can see, newest first.", tag: "runs",
                 query: [QueryParameter(name: "pipeline", schema: APISchema.string, description: "only this pipeline's runs"),
                         QueryParameter(name: "status", schema: APISchema.enumeration(RunPhase.allCases.map(\.rawValue)), description: "only runs in this status"),
                         QueryParameter(name: "trigger", schema: APISchema.string, description: "only runs queued by this trigger (its id)"),
                         QueryParameter(name: "limit", schema: APISchema.integer, description: "1 to 500, default 50"),
                         QueryParameter(name: "before", schema: APISchema.integer, description: "only runs queued before this time (Unix ms), for paging")],
                 response: APISchema.array(APISchema.ref("Run"))) { call in
            var phase: RunPhase?
            if let text = call.query("status") {
                guard let value = RunPhase(rawValue: text) else { throw APIError.invalid("status must be one of \(RunPhase.allCases.map(\.rawValue).joined(separator: ", "))", field: "status") }
                phase = value
            }
            let query = Runs.Query(pipeline: call.query("pipeline"), phase: phase, trigger: call.query("trigger"),
                                   limit: try call.queryInt("limit", default: 50, range: 1...500), before: try call.queryMillis("before"))
            return try .json(try await call.services.runs.list(query, for: try call.caller).map { RunView($0) })
        },
        Endpoint(.get, "/api/v1/runs/{id}", "getRun", "A run with per-node status and counters.", tag: "runs", response: APISchema.ref("Run")) { call in
            try .json(RunView(try await call.services.runs.get(call.parameter("id"), for: try call.caller), withNodes: true))
        },
        Endpoint(.post, "/api/v1/runs/{id}/cancel", "cancelRun", "Cancels a queued run, or asks the worker running it to stop.", tag: "runs",
                 response: APISchema.ref("Run")) { call in
            try .json(RunView(try await call.services.runs.cancel(call.parameter("id"), by: try call.caller), withNodes: true))
        },
        Endpoint(.post, "/api/v1/runs/{id}/replay", "replayRejects",
                 "Queues a run that feeds this run's rejected records back in (after a fix), through the pipeline's current revision (or `revision`).",
                 tag: "runs", request: APISchema.of(ReplayInput.self), status: .created, response: APISchema.ref("Run")) { call in
            let run = try await call.services.runs.replay(call.parameter("id"), by: try call.caller) {
                (call.body?.readableBytes ?? 0) > 0 ? try call.decode(ReplayInput.self).revision : nil
            }
            return try .json(RunView(run), status: .created)
        },
        Endpoint(.get, "/api/v1/runs/{id}/logs", "runLogs", "Log lines after ?after=SEQ; ?wait=SECONDS waits for new lines (follow).", tag: "runs",
                 query: [QueryParameter(name: "after", schema: APISchema.integer, description: "last sequence number already seen (default 0)"),
                         QueryParameter(name: "limit", schema: APISchema.integer, description: "1 to 1000, default 200"),
                         QueryParameter(name: "wait", schema: APISchema.integer, description: "0 to 30 seconds to wait for new lines")],
                 response: LogPage.schema) { call in
            let after = Int64(try call.queryInt("after", default: 0, range: 0...Int.max))
            let limit = try call.queryInt("limit", default: 200, range: 1...1000)
            let wait = Duration.seconds(try call.queryInt("wait", default: 0, range: 0...30))
            let page = try await call.services.runs.logs(call.parameter("id"), after: after, limit: limit, wait: wait, for: try call.caller)
            return try .json(LogPage(lines: page.lines, next: page.next, finished: page.finished))
        },
        Endpoint(.get, "/api/v1/runs/{id}/debug", "runDebugState",
                 "A debug run's breakpoints, controller, and the batch where it is paused (with the row that met the breakpoint's condition).",
                 tag: "runs", response: DebugView.schema) { call in
            let state = try await call.services.runs.debugState(call.parameter("id"), for: try call.caller)
            return try .json(DebugView(debug: state.settings != nil, breakpoints: state.settings?.breakpoints ?? [], commitOnFinish: state.settings?.commitOnFinish ?? false,
                                       controller: state.settings?.controller, paused: state.pauseJSON.flatMap(PauseView.init(json:))))
        },
        Endpoint(.post, "/api/v1/runs/{id}/debug", "controlDebugRun",
                 "Step (one batch through the paused point), continue (to the next breakpoint) or stop (cancel) a debug run: its controller only. The editor sends the same over the events WebSocket.",
                 tag: "runs", request: APISchema.of(DebugCommandInput.self), response: APISchema.ref("Run")) { call in
            try .json(RunView(try await call.services.runs.debug(call.parameter("id"), by: try call.caller) { try call.decode(DebugCommandInput.self).command }))
        },
        Endpoint(.get, "/api/v1/runs/{id}/steps", "runSteps",
                 "The steps of the run's nodes (each SQL model and data test) in the order they started, with status, rows, duration and the SQL that failed.",
                 tag: "runs", response: StepList.schema) { call in
            try .json(StepList(steps: try await call.services.runs.steps(call.parameter("id"), for: try call.caller).map(StepView.init)))
        },
        Endpoint(.get, "/api/v1/runs/{id}/samples", "runSamples",
                 "Every node output's first rows (the pipeline's `sampleRows`, default 20) with its columns and row count, in pipeline order.",
                 tag: "runs", response: SampleList.schema) { call in
            try .json(SampleList(samples: try await call.services.runs.samples(call.parameter("id"), for: try call.caller).map(SampleView.init)))
        },
        Endpoint(.get, "/api/v1/runs/{id}/samples/{node}/{port}", "runSample", "One node output's sample in a run.",
                 tag: "runs", response: SampleView.schema) { call in
            let samples = try await call.services.runs.samples(call.parameter("id"), node: call.parameter("node"), port: call.parameter("port"), for: try call.caller)
            return try .json(SampleView(samples[0]))
        },
        Endpoint(.get, "/api/v1/runs/{id}/rejects", "runRejects", "Rejected records with their error packets, as JSON lines (?format=csv for CSV).",
                 tag: "runs", query: [QueryParameter(name: "format", schema: APISchema.enumeration(["jsonl", "csv"]), description: "jsonl (default) or csv")],
                 response: APISchema.string, contentType: "application/x-ndjson", alternativeContentTypes: ["text/csv"]) { call in
            let format = call.query("format") ?? "jsonl"
            guard format == "jsonl" || format == "csv" else { throw APIError.invalid("format must be jsonl or csv", field: "format") }
            let id = call.parameter("id")
            let packets = try await call.services.runs.rejects(id, for: try call.caller)
            if format == "csv" {
                return APIReply(status: .ok, contentType: "text/csv", body: Data(RejectsCSV.render(packets).utf8),
                                headers: [(.contentDisposition, "attachment; filename=\"rejects-\(id).csv\"")])
            }
            return APIReply(status: .ok, contentType: "application/x-ndjson", body: Data(packets.map { $0 + "\n" }.joined().utf8),
                            headers: [(.contentDisposition, "attachment; filename=\"rejects-\(id).jsonl\"")])
        },
    ]
}

/// Rejected-record packets as CSV: one column per packet field, the record itself as JSON text.
enum RejectsCSV {
    static let columns = ["run_id", "node", "code", "message", "field", "source", "line", "row", "trace_id", "raw", "record"]

    static func render(_ packets: [String]) -> String {
        var out = columns.joined(separator: ",") + "\n"
        for text in packets {
            let packet = JSONValue.parse(text) ?? .object([:])
            out += columns.map { column -> String in
                let value: String = switch packet[column] {
                case let .string(s)?: s
                case let .int(i)?: String(i)
                case .null?, nil: ""
                case let other?: other.text
                }
                return quote(value)
            }.joined(separator: ",") + "\n"
        }
        return out
    }

    static func quote(_ value: String) -> String {
        value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }
}

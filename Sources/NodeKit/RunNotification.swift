/// What a run notification is about.
public enum RunNotificationEvent: String, Sendable, CaseIterable {
    /// The run failed.
    case failed
    /// The run succeeded.
    case succeeded
    /// The run ended (succeeded or failed) with rejected records.
    case rejected
}

/// One entry of a pipeline's `notify:` list: on which outcomes, through which connection (a connector that
/// offers `RunNotifying`: slack, http webhooks), to whom (for channels that address people).
///
/// ```yaml
/// notify:
///   - {on: [failed, rejected], via: slack, connection: team}
///   - {on: [failed], via: webhook, connection: ops, path: /hooks/sluice}
/// ```
public struct RunNotification: Sendable {
    public var on: Set<RunNotificationEvent>
    /// The channel as written (`slack`, `webhook`): checked against the connection's connector when sending.
    public var via: String
    public var connection: String
    /// Where on the connection (a webhook path), when the channel needs one.
    public var path: String?
    /// Recipients, for channels that address people.
    public var to: [String]
    public var location: SourceLocation?

    public init(on: Set<RunNotificationEvent>, via: String, connection: String, path: String? = nil, to: [String] = [], location: SourceLocation? = nil) {
        self.on = on
        self.via = via
        self.connection = connection
        self.path = path
        self.to = to
        self.location = location
    }

    /// Whether a run that ended `succeeded` (or not) with `rejected` records is one this entry is about.
    public func applies(succeeded: Bool, rejected: Int) -> Bool {
        (succeeded ? on.contains(.succeeded) : on.contains(.failed)) || (rejected > 0 && on.contains(.rejected))
    }
}

/// What a run notification says.
public struct RunMessage: Sendable {
    public var pipeline: String
    public var runID: String
    /// `succeeded`, `failed` or `cancelled`.
    public var status: String
    public var error: String?
    public var durationSeconds: Double
    public var recordsRead: Int
    public var rejected: Int
    /// Where to see the run (the server's run page), when known.
    public var link: String?

    public init(pipeline: String, runID: String, status: String, error: String?, durationSeconds: Double, recordsRead: Int, rejected: Int, link: String?) {
        self.pipeline = pipeline
        self.runID = runID
        self.status = status
        self.error = error
        self.durationSeconds = durationSeconds
        self.recordsRead = recordsRead
        self.rejected = rejected
        self.link = link
    }

    /// One line for chat: `✗ nightly failed in 12.3 s: … — 1,200 records read, 3 rejected (run abc)`.
    public var text: String {
        var line = "\(status == "succeeded" ? "✓" : "✗") \(pipeline) \(status) in \(String(format: "%.1f", durationSeconds)) s"
        if let error { line += ": \(error)" }
        line += " — \(recordsRead) record(s) read, \(rejected) rejected (run \(runID))"
        if let link { line += " \(link)" }
        return line
    }
}

/// A connector that can deliver run notifications (`notify: [{via: …, connection: …}]`).
public protocol RunNotifying: Connector {
    /// The `via` word users write for it (`slack`, `webhook`).
    static var notificationChannel: String { get }
    /// Delivers the message; throws when the receiver refused it or could not be reached (after the connector's own retries).
    static func notify(_ message: RunMessage, through connection: Connection, path: String?, to recipients: [String]) async throws
}

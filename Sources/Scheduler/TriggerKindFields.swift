public import NodeKit

extension TriggerKind {
    /// The settings each kind accepts, for forms and docs (`GET /api/v1/trigger-kinds`). `TriggerSettings.parse`
    /// reads the same names; `TriggerKindFieldsTests` checks the two lists never drift apart.
    public var fields: [FieldSpec] {
        func field(_ name: String, _ kind: FieldKind, _ summary: String, required: Bool = false, default value: String? = nil, example: String? = nil) -> FieldSpec {
            FieldSpec(name: name, kind: kind, summary: summary, isRequired: required, defaultText: value, example: example)
        }
        let pollEvery = { (value: String) in field("poll_every", .duration, "How often to check (30s, 15m, 2h).", default: value) }
        switch self {
        case .cron:
            return [field("schedule", .string, "Five fields (or six with seconds), names, lists, ranges, steps, or @hourly/@daily/@weekly/@monthly/@yearly.",
                          required: true, example: "0 2 * * *"),
                    field("timezone", .string, "IANA time zone the schedule is read in.", default: "UTC", example: "Europe/Berlin")]
        case .interval:
            return [field("every", .duration, "The interval (30s, 15m, 2h, 1d).", required: true, example: "15m"),
                    field("align", .choice(["clock", "last_run"]), "clock: multiples of the interval since the epoch; last_run: the interval after the last run ended.", default: "clock")]
        case .webhook:
            return [field("auth", .choice(["token", "hmac"]), "token: a bearer secret; hmac: an HMAC-SHA256 signature over timestamp.body.", default: "token"),
                    field("max_body_bytes", .integer, "The largest body accepted (at most 16 MiB).", default: "1048576"),
                    field("tolerance_seconds", .integer, "How far a signed timestamp may be from the server's clock (10–3600).", default: "300")]
        case .watermark:
            return [field("connection", .connection, "A postgres or sqlite connection.", required: true, example: "warehouse"),
                    field("table", .string, "Table to watch (with column), or give a query.", example: "public.orders"),
                    field("column", .string, "Column whose maximum is the watermark.", example: "updated_at"),
                    field("query", .string, "A query returning one value, instead of table and column.", example: "SELECT max(id) FROM orders"),
                    pollEvery("60s"), field("fire_on_first", .boolean, "Fire on the first poll too (default: it only records the value).", default: "false")]
        case .file:
            return [field("directory", .path, "Directory to watch.", required: true, example: "/data/incoming"),
                    field("glob", .string, "File name pattern.", default: "*", example: "*.csv"),
                    field("settle", .duration, "How long size and modification time must hold still.", default: "5s"),
                    pollEvery("5s"),
                    field("after", .choice(["remember", "move"]), "remember the fired files, or move them to processed/.", default: "remember")]
        case .httpPoll:
            return [field("url", .string, "http or https URL to poll.", required: true, example: "https://example.com/feed.json"),
                    pollEvery("60s"), field("headers", .map(.string), "Request headers."),
                    field("timeout_seconds", .integer, "Request timeout (1–600).", default: "30")]
        case .imap:
            return [field("connection", .connection, "An imap connection.", required: true, example: "mail"),
                    field("mailbox", .string, "Mailbox to watch.", default: "INBOX"),
                    field("from", .string, "Only mail whose From contains this text."), field("to", .string, "Only mail whose To contains this text."),
                    field("subject", .string, "Only mail whose Subject contains this text.", example: "invoice"),
                    field("has_attachment", .boolean, "Only mail with (true) or without (false) attachments."),
                    pollEvery("60s"), field("start", .choice(["new", "all"]), "new: only mail arriving later; all: also the mail already there.", default: "new"),
                    field("max_messages_per_poll", .integer, "At most this many messages per poll (1–1000).", default: "50"),
                    field("max_message_bytes", .integer, "Larger messages fire with their headers only.", default: "26214400"),
                    field("attachments_directory", .path, "Where attachments are saved (default: the workspace's trigger-files/imap).")]
        }
    }
}

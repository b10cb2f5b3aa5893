import Columnar
import Foundation
public import NodeKit

/// Sends e-mail through an `smtp` connection: one message per run (about its input, optionally with the rows
/// attached as CSV or JSON Lines) or one per row (addresses, subject and bodies filled from the row's columns).
/// With `mode: row`, a row whose address is not valid, or whose every recipient the server refuses, is rejected
/// with the server's reply; rows past `maxMessages` are rejected too (nothing is mailed by accident in bulk).
public struct EmailSendNode: NodeType {
    enum Mode: String, Choice { case run, row }
    enum Attachment: String, Choice { case none, csv, jsonl }

    static let connection = Field<ConnectionName>("connection", summary: "An smtp connection (the server and the sender address).", example: "mail")
    static let mode = Field<Mode>("mode", summary: "run: one message per run, about all its input rows; row: one message per input row.", default: .run)
    static let to = Field<[String]>("to", summary: "Recipients (templates: with mode: row, {{email}} takes a row's column).", example: "[ops@example.com]")
    static let cc = Field<[String]>("cc", summary: "Copy recipients (templates).", default: [])
    static let bcc = Field<[String]>("bcc", summary: "Blind copy recipients (templates; never shown in the message).", default: [])
    static let subject = Field<String>("subject", summary: "The subject, a template ({{run.rows}}, {{run.pipeline}}, {{run.error}}; {{column}} with mode: row).",
                                       example: "Daily totals ({{run.rows}} rows)")
    static let text = Field<String?>("text", summary: "The plain-text body, a template (without text and html: a summary, the row count or the row's columns).",
                                     example: "See the attachment.")
    static let html = Field<String?>("html", summary: "An HTML body, a template (values are HTML-escaped; {{{name}}} inserts one as is). With text, both are sent as alternatives.",
                                     example: "<p>{{run.rows}} rows</p>")
    static let attach = Field<Attachment>("attach", summary: "mode: run: attach the input rows as a csv or jsonl file (none: no attachment).", default: Attachment.none)
    static let attachmentName = Field<String?>("attachmentName", summary: "The attached file's name (the node id plus .csv or .jsonl when not given).", example: "totals.csv")
    static let maxAttachmentBytes = Field<Int>("maxAttachmentBytes", summary: "The largest attachment; more rows fail the node, naming the size (mail servers refuse large messages).",
                                               default: 10 << 20)
    static let maxMessages = Field<Int>("maxMessages", summary: "mode: row: at most this many messages per run; later rows are rejected (code over_max_messages).",
                                        default: 1000)

    public static let spec = NodeSpec(
        id: "email.send", version: 1, category: .sink, title: "Send e-mail",
        summary: "Sends an e-mail per run (a summary, with the rows attached) or per row, through an SMTP server.",
        inputs: [.data("in", "The rows the message is about (optional with mode: run).", optional: true)], outputs: [],
        fields: [connection.spec, mode.spec, to.spec, cc.spec, bcc.spec, subject.spec, text.spec, html.spec, attach.spec, attachmentName.spec,
                 maxAttachmentBytes.spec, maxMessages.spec],
        capabilities: [.immediateDelivery, .rejects], icon: "mail")

    let settings: Settings
    let endpoint: SMTPEndpoint
    let mode: Mode
    let recipients: [(field: String, template: TextTemplate)]
    let subject: TextTemplate
    let text: TextTemplate?
    let html: TextTemplate?
    let attachment: Attachment
    let attachmentFile: String
    let maxAttachmentBytes: Int
    let maxMessages: Int

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        do { endpoint = try SMTPEndpoint(try settings.connection(Self.connection, type: SMTPConnector.spec.type)) } catch {
            throw error.node == nil ? settings.error(Self.connection, error.message, code: error.code) : error
        }
        mode = try settings[Self.mode]
        func compile<T>(_ source: String, _ field: Field<T>, _ escaping: TextTemplate.Escaping, name: String? = nil) throws(ConfigError) -> TextTemplate {
            do { return try TextTemplate(source, escaping: escaping) } catch {
                throw ConfigError(code: "invalid_template", message: error.message, location: settings.location(of: field), node: settings.node, field: name ?? field.name)
            }
        }
        var recipients: [(String, TextTemplate)] = []
        for field in [Self.to, Self.cc, Self.bcc] {
            for (k, source) in try settings[field].enumerated() {
                recipients.append((field.name, try compile(source, field, .text, name: "\(field.name)[\(k)]")))
            }
        }
        guard !recipients.isEmpty else {
            throw settings.error(Self.to, "a message needs at least one recipient in to, cc or bcc", code: "missing_field")
        }
        self.recipients = recipients
        subject = try compile(try settings[Self.subject], Self.subject, .text)
        text = try settings[Self.text].map { source throws(ConfigError) in try compile(source, Self.text, .text) }
        html = try settings[Self.html].map { source throws(ConfigError) in try compile(source, Self.html, .html) }
        attachment = try settings[Self.attach]
        if attachment != .none, mode == .row { throw settings.error(Self.attach, "attachments are sent with mode: run (one message about all rows)") }
        attachmentFile = try settings[Self.attachmentName] ?? "\(settings.node).\(attachment.rawValue)"
        maxAttachmentBytes = try settings[Self.maxAttachmentBytes]
        guard maxAttachmentBytes > 0 else { throw settings.error(Self.maxAttachmentBytes, "maxAttachmentBytes must be positive") }
        maxMessages = try settings[Self.maxMessages]
        guard maxMessages > 0 else { throw settings.error(Self.maxMessages, "maxMessages must be positive") }
    }

    /// Every template field with its name, for plan-time checks.
    var templates: [(field: String, template: TextTemplate)] {
        recipients + [("subject", subject)] + (text.map { [("text", $0)] } ?? []) + (html.map { [("html", $0)] } ?? [])
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let input = request.inputs["in"]?.first
        if mode == .row {
            guard let input else { throw settings.error(Self.mode, "mode: row needs rows: connect the in port", code: "unconnected_port") }
            for (field, template) in templates {
                for name in template.names where input.index(of: name) == nil {
                    throw ConfigError(code: "unknown_column", message: "the template uses {{\(name)}}, which is not an input column; the columns are: \(input.fields.map(\.name).joined(separator: ", "))",
                                      location: settings.raw.location, node: settings.node, field: field)
                }
            }
        } else {
            for (field, template) in templates {
                for name in template.names where name != "run" {
                    throw ConfigError(code: "unknown_column", message: "with mode: run a template can use {{run.rows}}, {{run.id}}, {{run.pipeline}} and {{run.error}}, not {{\(name)}}",
                                      location: settings.raw.location, node: settings.node, field: field)
                }
            }
            if attachment != .none, input == nil { throw settings.error(Self.attach, "attach needs rows: connect the in port", code: "unconnected_port") }
        }
        return NodePlan(outputs: [:], work: EmailWork(node: self, hasInput: input != nil))
    }

    /// The message for `values` (a row's columns, or `run`), or why its addresses cannot be used.
    func message(_ values: [String: Any]) -> Result<OutgoingMail, NodeError> {
        var addresses: [String: [String]] = [:]
        for (field, template) in recipients {
            let rendered = template.render(values).trimmingCharacters(in: .whitespaces)
            if rendered.isEmpty { continue } // an empty optional column: no such recipient
            for address in rendered.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !address.isEmpty {
                guard let parsed = MailAddress(parsing: address) else {
                    return .failure(NodeError(code: "invalid_address", message: "\(field): '\(address)' is not an e-mail address"))
                }
                addresses[field, default: []].append(parsed.address)
            }
        }
        guard !addresses.values.joined().isEmpty else { return .failure(NodeError(code: "invalid_address", message: "the message has no recipient (to, cc and bcc are empty)")) }
        var mail = OutgoingMail(from: endpoint.from, to: addresses["to"] ?? [], subject: subject.render(values))
        mail.cc = addresses["cc"] ?? []
        mail.bcc = addresses["bcc"] ?? []
        mail.text = text?.render(values)
        mail.html = html?.render(values)
        if mail.text == nil, mail.html == nil { mail.text = Self.summary(values) }
        return .success(mail)
    }

    /// The body when neither text nor html is set: the run's row count and error, or the row's columns one per line.
    static func summary(_ values: [String: Any]) -> String {
        if let run = values["run"] as? [String: Any], values.count == 1 {
            var text = "\(run["rows"] ?? 0) row(s) from pipeline \(run["pipeline"] ?? ""), run \(run["id"] ?? "")."
            if let error = run["error"] as? String, !error.isEmpty { text += "\nThe run is failing: \(error)" }
            return text + "\n"
        }
        return values.keys.sorted().map { "\($0): \(values[$0] ?? "")" }.joined(separator: "\n") + "\n"
    }
}

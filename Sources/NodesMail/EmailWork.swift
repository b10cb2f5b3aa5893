import Columnar
import Foundation
import NodeKit

/// The run of an `email.send` node: reads its input, then sends through one SMTP session (per-row messages one
/// after another on it). Preview runs read and render but send nothing.
struct EmailWork: NodeWork {
    let node: EmailSendNode
    let hasInput: Bool

    func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
        switch node.mode {
        case .row: try await sendPerRow(context)
        case .run: try await sendOne(context)
        }
        return nil
    }

    /// One message about the whole input, with the rows attached when asked.
    private func sendOne(_ context: any NodeContext) async throws {
        var rows = 0
        var file = AttachmentWriter(format: node.attachment, limit: node.maxAttachmentBytes)
        if hasInput {
            for try await batch in context.input("in") {
                rows += batch.count
                file.append(batch)
            }
        }
        if file.overLimit {
            throw NodeError(code: "attachment_too_large",
                            message: "the \(node.attachment.rawValue) attachment of \(rows) rows is over maxAttachmentBytes (\(node.maxAttachmentBytes) bytes); raise it or send fewer rows")
        }
        let values: [String: Any] = ["run": ["rows": rows, "id": context.runID, "pipeline": context.pipeline, "error": context.runFailure ?? ""] as [String: Any]]
        var mail: OutgoingMail
        switch node.message(values) {
        case let .success(message): mail = message
        case let .failure(error): throw error
        }
        if node.attachment != .none {
            mail.attachments = [MailAttachment(fileName: node.attachmentFile, contentType: node.attachment == .csv ? "text/csv; charset=utf-8" : "application/jsonl",
                                               bytes: file.bytes)]
        }
        guard !context.isPreview else { return context.log(.info, "preview: would send '\(mail.subject)' to \(mail.recipients.count) recipient(s)") }
        let message = mail.rendered()
        let recipients = mail.recipients
        let delivery = try await SMTPClient.withSession(node.endpoint) { session in
            try await session.send(from: node.endpoint.from.address, to: recipients, message: message)
        }
        for refusal in delivery.refused { context.log(.warning, "the server refused \(refusal.recipient): \(refusal.reply)") }
        guard let reply = delivery.reply else {
            throw NodeError(code: "smtp_refused", message: "\(node.endpoint) refused every recipient: " + delivery.refused.map { "\($0.recipient): \($0.reply)" }.joined(separator: "; "))
        }
        context.addBytes(message.count)
        context.log(.info, "sent '\(mail.subject)' to \(delivery.accepted.count) recipient(s) (\(message.count) bytes): \(reply)")
    }

    /// One message per row, on one session; rows that cannot be mailed are rejected with the reason.
    private func sendPerRow(_ context: any NodeContext) async throws {
        if context.isPreview {
            var rows = 0
            for try await batch in context.input("in") { rows += batch.count }
            return context.log(.info, "preview: would send up to \(min(rows, node.maxMessages)) message(s)")
        }
        let counts = try await SMTPClient.withSession(node.endpoint) { session in
            var sent = 0, seen = 0
            for try await batch in context.input("in") {
                var rejects: [RejectedRecord] = []
                for i in 0..<batch.count {
                    defer { seen += 1 }
                    func reject(_ code: String, _ message: String) {
                        rejects.append(RejectedRecord(code: code, message: message, row: seen,
                                                      payload: .row(batch.schema.fields.enumerated().map { ($1.name, batch.columns[$0].value(at: i)) })))
                    }
                    guard sent < node.maxMessages else {
                        reject("over_max_messages", "this run already sent maxMessages (\(node.maxMessages)) messages")
                        continue
                    }
                    let mail: OutgoingMail
                    switch node.message(TextTemplate.values(of: batch, row: i)) {
                    case let .success(message): mail = message
                    case let .failure(error):
                        reject(error.code, error.message)
                        continue
                    }
                    let message = mail.rendered()
                    let delivery = try await session.send(from: node.endpoint.from.address, to: mail.recipients, message: message)
                    let refusals = delivery.refused.map { "\($0.recipient): \($0.reply)" }.joined(separator: "; ")
                    if delivery.reply == nil {
                        reject("smtp_refused", "the server refused every recipient: \(refusals)")
                        continue
                    }
                    if !delivery.refused.isEmpty {
                        reject("smtp_refused", "sent to \(delivery.accepted.joined(separator: ", ")); the server refused \(refusals)")
                    }
                    context.addBytes(message.count)
                    sent += 1
                }
                if !rejects.isEmpty { try await context.reject(rejects) }
            }
            return (sent, seen)
        }
        context.log(.info, "sent \(counts.0) message(s) for \(counts.1) row(s)")
    }
}

/// The input rows as an attachment: CSV with a header line (RFC 4180 quoting) or JSON Lines. Past `limit` bytes it
/// stops growing and says so.
struct AttachmentWriter {
    let format: EmailSendNode.Attachment
    let limit: Int
    private(set) var bytes: [UInt8] = []
    private(set) var overLimit = false
    private var wroteHeader = false

    init(format: EmailSendNode.Attachment, limit: Int) {
        self.format = format
        self.limit = limit
    }

    mutating func append(_ batch: RecordBatch) {
        guard format != .none, !overLimit else { return }
        let names = batch.schema.fields.map(\.name)
        if format == .csv, !wroteHeader {
            bytes += Array((names.map(Self.csvField).joined(separator: ",") + "\r\n").utf8)
            wroteHeader = true
        }
        for i in 0..<batch.count {
            switch format {
            case .csv:
                let cells = batch.columns.map { column -> String in
                    let value = column.value(at: i)
                    return value.isNull ? "" : Self.csvField(value.description)
                }
                bytes += Array((cells.joined(separator: ",") + "\r\n").utf8)
            case .jsonl:
                bytes += Array((JSONText.object(names.enumerated().map { ($1, batch.columns[$0].value(at: i)) }) + "\n").utf8)
            case .none:
                return
            }
            if bytes.count > limit {
                overLimit = true
                bytes = []
                return
            }
        }
    }

    /// A CSV field, quoted when it holds a comma, quote or line break (quotes doubled).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

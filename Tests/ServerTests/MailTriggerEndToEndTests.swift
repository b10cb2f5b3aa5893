import Foundation
import HTTPTypes
import SQLiteAccess
@testable import Server
import SluiceTestSupport
import Store
import Testing

/// A mailbox trigger on a real Dovecot, configured through the API: the connection is tested, a mail with a CSV
/// attachment starts the pipeline with the attachment's path, and the run loads the attachment's rows.
@Suite(.serialized)
struct MailTriggerEndToEndTests {
    @Test(.timeLimit(.minutes(2)))
    func anInvoiceMailLoadsItsAttachment() async throws {
        let mailbox = try DovecotTestServer.makeMailbox()
        let harness = try await ServerHarness.make()
        defer { Task { await harness.close() } }
        let workspace = harness.state.configuration.workspace
        try await harness.withLiveServer(workers: 1) { client in
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let mail = try await client.call(.post, "/api/v1/connections", token: root, json: .object([
                "name": .string("mail"), "type": .string("imap"),
                "settings": .object(["host": .string("127.0.0.1"), "port": .int(Int64(DovecotTestServer.server.tlsPort)), "security": .string("tls"),
                                     "ca_file": .string(DovecotTestServer.certificatePath), "user": .string(mailbox.user)]),
                "secrets": .object(["password": .string(mailbox.password)]),
            ]))
            #expect(mail.status == .created, "\(mail.text)")
            #expect(!mail.text.contains(mailbox.password))
            let mailID = try #require(mail.body["id"]?.stringValue)
            let test = try await client.call(.post, "/api/v1/connections/\(mailID)/test", token: root)
            #expect(test.body["ok"] == .bool(true) && test.body["message"]?.stringValue?.contains("INBOX") == true, "\(test.text)")
            let dest = try await client.call(.post, "/api/v1/connections", token: root, json: .object([
                "name": .string("dest"), "type": .string("sqlite"), "settings": .object(["path": .string(workspace + "/dest.db")])]))
            #expect(dest.status == .created)

            let document = """
                apiVersion: sluice/v1
                name: invoices
                parameters:
                  file: {type: string, default: "none.csv"}
                nodes:
                  - {id: read, type: csv.read, settings: {path: "${file}"}}
                  - {id: load, type: sqlite.write, settings: {connection: dest, table: invoice_lines}}
                edges:
                  - {from: read.out, to: load.in}
                """
            let pipeline = try #require(try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(document)])).body["id"]?.stringValue)
            let trigger = try await client.call(.post, "/api/v1/triggers", token: root, json: .object([
                "name": .string("invoice-mail"), "kind": .string("imap"), "rule": .string("subject ILIKE '%invoice%' AND has_attachment"),
                "settings": .object(["connection": .string("mail"), "pollEvery": .string("1s")]),
                "pipelines": .array([.object(["pipeline_id": .string(pipeline), "parameters": .object(["file": .string("${event.attachments.0.path}")])])]),
            ]))
            let triggerID = try #require(trigger.body["id"]?.stringValue, "\(trigger.text)")

            #expect(await harness.state.scheduler().tick().isEmpty, "the first poll starts after the mail already there")
            try mailbox.deliver("""
                From: ap@supplier.example
                Subject: Invoice 2026-17
                MIME-Version: 1.0
                Content-Type: multipart/mixed; boundary=XX

                --XX
                Content-Type: text/plain

                Lines attached.
                --XX
                Content-Type: text/csv
                Content-Disposition: attachment; filename="lines.csv"

                sku,qty
                A-1,3
                B-2,5
                --XX--
                """)
            try mailbox.deliver("From: ap@supplier.example\nSubject: Lunch?\n\nNo attachment here.\n")
            let firings = await harness.state.scheduler().tick()
            #expect(firings.map(\.outcome) == ["fired", "filtered"], "\(firings)")
            let run = try await client.finishedRun(try #require(firings.first?.runIDs.first), token: root)
            #expect(run["status"] == .string("succeeded"), "\(run.text)")
            let statement = try SQLiteDatabase(path: workspace + "/dest.db", readOnly: true).prepare("SELECT group_concat(sku || ':' || qty) FROM invoice_lines")
            #expect(try statement.step() && statement.text(0) == "A-1:3,B-2:5")
            let history = try await client.call(.get, "/api/v1/triggers/\(triggerID)/history", token: root)
            #expect(history.text.contains("Invoice 2026-17"))
            let runs = try await client.call(.get, "/api/v1/runs?trigger=\(triggerID)", token: root)
            #expect(runs.body.items.compactMap { $0["id"]?.stringValue } == firings.first?.runIDs, "\(runs.text)")
            let none = try await client.call(.get, "/api/v1/runs?trigger=no-such-trigger", token: root)
            #expect(none.body.items.isEmpty)
            #expect(await harness.state.scheduler().tick().isEmpty, "no new mail: no firing")
        }
    }
}

extension JSONValue {
    /// The elements of an array (empty for anything else).
    var items: [JSONValue] { if case let .array(a) = self { a } else { [] } }
}

import Foundation
import NodeKit
import NodesHTTP
import Runtime
import SluiceTestSupport
import Testing

/// Run notifications: which entries each outcome matches, and a receiver that is down, then back (retried and
/// sent), or down for good (recorded as not sent), against the local test API.
@Suite struct RunNotificationTests {
    static func message(status: String, rejected: Int = 0) -> RunMessage {
        RunMessage(pipeline: "nightly", runID: "r-\(UUID().uuidString.prefix(8))", status: status, error: status == "failed" ? "node 'load': disk full" : nil,
                   durationSeconds: 1.5, recordsRead: 10, rejected: rejected, link: "https://sluice.example.com/#/run/r-1")
    }

    @Test func eachOutcomeMatchesItsEntries() {
        let failed = RunNotification(on: [.failed], via: "webhook", connection: "ops")
        let succeeded = RunNotification(on: [.succeeded], via: "webhook", connection: "ops")
        let rejected = RunNotification(on: [.rejected], via: "webhook", connection: "ops")
        #expect(failed.applies(succeeded: false, rejected: 0) && !failed.applies(succeeded: true, rejected: 3))
        #expect(succeeded.applies(succeeded: true, rejected: 0) && !succeeded.applies(succeeded: false, rejected: 0))
        #expect(rejected.applies(succeeded: true, rejected: 2) && rejected.applies(succeeded: false, rejected: 1) && !rejected.applies(succeeded: true, rejected: 0))
    }

    func deliver(_ message: RunMessage, _ entries: [RunNotification], succeeded: Bool, store: String,
                 shuttingDown: Bool = false) async throws -> [(level: LogLevel, message: String, via: String)] {
        let api = try APITestServer.server
        let catalog = try ConnectionsFile.parse("ops: {type: http, baseUrl: \"\(api.baseURL)\", retries: 0}", file: nil, specs: [HTTPConnector.spec], environment: [:])
        var notifier = RunNotifier(connectors: ConnectorRegistry([HTTPConnector.self]))
        notifier.retryDelays = [.milliseconds(50), .milliseconds(100)]
        notifier.mayRetry = { !shuttingDown }
        return await notifier.deliver(message, for: entries, succeeded: succeeded) { name in try #require(catalog.connections[name]) }
    }

    func received(_ store: String) async throws -> [[String: Any]] {
        ((try await APITestServer.call("GET", "/hook/received?store=\(store)") as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
    }

    @Test func aSucceededRunWithRejectsNotifiesTheSucceededAndRejectedEntriesOnly() async throws {
        let store = UUID().uuidString
        let entries = ["failed", "succeeded", "rejected"].map { outcome in
            RunNotification(on: [RunNotificationEvent(rawValue: outcome)!], via: "webhook", connection: "ops", path: "/hook?store=\(store)-\(outcome)")
        }
        let lines = try await deliver(Self.message(status: "succeeded", rejected: 4), entries, succeeded: true, store: store)
        #expect(lines.count == 2 && lines.allSatisfy { $0.level == .info && $0.via == "webhook" })
        #expect(try await received("\(store)-failed").isEmpty)
        #expect(try await received("\(store)-succeeded").first?["status"] as? String == "succeeded")
        let rejected = try await received("\(store)-rejected").first
        #expect(rejected?["rejected"] as? Int == 4 && rejected?["link"] as? String == "https://sluice.example.com/#/run/r-1")
    }

    @Test func aReceiverThatIsDownIsRetriedUntilItIsBack() async throws {
        let store = UUID().uuidString
        let entry = RunNotification(on: [.failed], via: "webhook", connection: "ops", path: "/hook?store=\(store)&failFirst=2")
        let lines = try await deliver(Self.message(status: "failed"), [entry], succeeded: false, store: store)
        #expect(lines.map(\.message) == ["webhook notification through 'ops' sent"], "\(lines)")
        let rows = try await received(store)
        #expect(rows.count == 1 && rows.first?["error"] as? String == "node 'load': disk full", "sent once, after two refusals")
    }

    @Test func shuttingDownSendsOnceWithoutRetrying() async throws {
        let store = UUID().uuidString
        let entry = RunNotification(on: [.failed], via: "webhook", connection: "ops", path: "/hook?store=\(store)&failFirst=1")
        let lines = try await deliver(Self.message(status: "failed"), [entry], succeeded: false, store: store, shuttingDown: true)
        #expect(lines.count == 1 && lines[0].level == .error)
        #expect(lines[0].message.contains("not tried again: the process is shutting down"), "\(lines[0].message)")
        #expect(try await received(store).isEmpty, "one refused attempt, no retry")
    }

    @Test func aReceiverThatStaysDownIsRecordedAsNotSent() async throws {
        let store = UUID().uuidString
        let entry = RunNotification(on: [.failed], via: "webhook", connection: "ops", path: "/hook?store=\(store)&failFirst=10")
        let lines = try await deliver(Self.message(status: "failed"), [entry], succeeded: false, store: store)
        #expect(lines.count == 1 && lines[0].level == .error)
        #expect(lines[0].message.contains("could not be sent") && lines[0].message.contains("503"), "\(lines[0].message)")
        #expect(try await received(store).isEmpty)
    }
}

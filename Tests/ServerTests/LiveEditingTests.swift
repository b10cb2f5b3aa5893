import Foundation
@testable import Server
import SluiceTestSupport
import Store
import Synchronization
import Testing

/// Live editing over a real WebSocket on loopback: rooms, ordered operations, unique ids, same-field races,
/// permissions per operation, presence, saving the merged working copy and keeping it across a restart.
@Suite(.serialized)
struct LiveEditingTests {
    static let document = """
        apiVersion: sluice/v1
        name: live
        nodes:
          - {id: src, type: csv.read, settings: {path: in.csv}}
          - {id: out, type: csv.write, settings: {path: out.csv}}
        edges:
          - {from: src.out, to: out.in}
        """

    private static func join(_ socket: EventsClient, _ token: String, pipeline: String, client: String) async throws -> JSONValue {
        socket.send(.object(["type": .string("auth"), "token": .string(token)]))
        try await socket.waitFor("ready") { $0.messageType == "ready" }
        socket.send(.object(["type": .string("subscribe"), "edit": .string(pipeline), "client": .string(client)]))
        return try await socket.waitFor("joined") { $0.messageType == "joined" }
    }

    private static func op(_ pipeline: String, _ clientOp: Int64, base: Int64, _ op: JSONValue) -> JSONValue {
        .object(["type": .string("op"), "pipeline": .string(pipeline), "client_op": .int(clientOp), "base": .int(base), "op": op])
    }

    private static func set(_ node: String, _ field: String, _ value: String) -> JSONValue {
        .object(["kind": .string("set"), "node": .string(node), "field": .string(field), "value": .string(value)])
    }

    private static func add(_ id: String) -> JSONValue {
        .object(["kind": .string("add"), "nodes": .array([.object(["id": .string(id), "decl": .string(#"{"type":"filter@1","settings":{"where":"true"}}"#)])]),
                 "at": .object([id: .array([.int(10), .int(20)])])])
    }

    @Test
    func editorsShareOneOrderedWorkingCopyThatSurvivesARestart() async throws {
        let harness = try await ServerHarness.make()
        _ = try await SluiceServer.addUser(harness.state, name: "vic", role: .member, password: "vic-password-1", masterPassword: nil)
        let vicID = try #require(try await harness.state.store.users().first { $0.name == "vic" }?.id)
        let pipelineBox = Box<String>()
        try await harness.withLiveServer(workers: 0) { client in
            let port = try #require(client.client.port)
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let (vic, _) = try await client.login("vic", "vic-password-1")
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.document)]))
            let pipeline = try #require(created.body["id"]?.stringValue)
            pipelineBox.value = pipeline
            _ = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root, json: .object(["role": .string("editor")]))
            _ = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(vicID)", token: root, json: .object(["role": .string("viewer")]))

            let a = EventsClient(port: port), b = EventsClient(port: port), v = EventsClient(port: port)
            let joinedA = try await Self.join(a, root, pipeline: pipeline, client: "tab-a")
            #expect(joinedA["seq"] == .int(0) && joinedA["revision"] == .int(1) && joinedA["ops"]?.arrayItems.isEmpty == true)
            // The document comes as JSON text with its keys in their order.
            let document = try #require(joinedA["document"]?.stringValue)
            #expect(document.contains(#""id":"src""#) && document.range(of: #""nodes""#)!.lowerBound < document.range(of: #""edges""#)!.lowerBound)
            _ = try await Self.join(b, mia, pipeline: pipeline, client: "tab-b")
            _ = try await Self.join(v, vic, pipeline: pipeline, client: "tab-v")
            // Editors send a heartbeat (a tab silent for 7 s is taken as gone); so do these, however slow the machine. Any
            // message counts: these subscribe to the pipeline's runs again, which changes nothing (an editor's heartbeat
            // repeats its presence, which would replace a presence this test sends on purpose).
            let heartbeats = Task {
                while !Task.isCancelled {
                    for socket in [a, b, v] { socket.send(.object(["type": .string("subscribe"), "pipeline": .string(pipeline)])) }
                    try await Task.sleep(for: .seconds(2))
                }
            }
            defer { heartbeats.cancel() }
            // Everyone sees everyone, with a colour each and the viewer marked by role.
            let members = try await a.waitFor("three members") { $0.messageType == "members" && $0["members"]?.arrayItems.count == 3 }
            let roles = Dictionary(uniqueKeysWithValues: (members["members"]?.arrayItems ?? []).map { ($0["user"]?.stringValue ?? "", $0["role"]?.stringValue ?? "") })
            #expect(roles == ["root": "owner", "mia": "editor", "vic": "viewer"])
            #expect(Set((members["members"]?.arrayItems ?? []).compactMap { $0["color"]?.stringValue }).count == 3)

            // A and B add a node with the same id at once: the second keeps its node under a free id.
            a.send(Self.op(pipeline, 1, base: 0, Self.add("filter")))
            b.send(Self.op(pipeline, 1, base: 0, Self.add("filter")))
            let first = try await v.waitFor("op 1") { $0.messageType == "op" && $0["seq"] == .int(1) }
            let second = try await v.waitFor("op 2") { $0.messageType == "op" && $0["seq"] == .int(2) }
            let ids = [first, second].compactMap { $0["op"]?["nodes"]?.arrayItems.first?["id"]?.stringValue }
            #expect(Set(ids) == ["filter", "filter_2"], "\(ids)")
            // The loser's later operation, sent before it heard of the rename, reaches its own node.
            let loser = second["client"]?.stringValue == "tab-a" ? a : b
            loser.send(Self.op(pipeline, 2, base: 0, Self.set("filter", "where", #""amount > 1""#)))
            let mapped = try await v.waitFor("mapped set") { $0.messageType == "op" && $0["seq"] == .int(3) }
            #expect(mapped["op"]?["node"] == .string("filter_2"))

            // Both set the same field having seen seq 3: the later wins, and the earlier writer is named as overridden.
            a.send(Self.op(pipeline, 3, base: 3, Self.set("src", "path", #""a.csv""#)))
            _ = try await v.waitFor("a's set") { $0.messageType == "op" && $0["seq"] == .int(4) }
            b.send(Self.op(pipeline, 3, base: 3, Self.set("src", "path", #""b.csv""#)))
            let race = try await a.waitFor("b's set") { $0.messageType == "op" && $0["seq"] == .int(5) }
            #expect(race["overrode"]?.arrayItems.first?["client"] == .string("tab-a") && race["overrode"]?.arrayItems.first?["user"] == .string("root"))
            #expect(race["user"] == .string("mia"))

            // The viewer's operation is refused, to the viewer alone; a malformed one too.
            v.send(Self.op(pipeline, 1, base: 5, Self.set("src", "path", #""v.csv""#)))
            let refused = try await v.waitFor("refused") { $0.messageType == "refused" }
            #expect(refused["error"]?["code"] == .string("forbidden"))
            a.send(Self.op(pipeline, 4, base: 5, .object(["kind": .string("explode")])))
            let bad = try await a.waitFor("refused bad op") { $0.messageType == "refused" }
            #expect(bad["error"]?["message"]?.stringValue?.contains("kind is one of") == true)

            // Presence goes to the others, not back.
            b.send(.object(["type": .string("presence"), "pipeline": .string(pipeline), "cursor": .array([.int(100), .int(50)]),
                            "selection": .array([.string("src")]), "editing": .string("src")]))
            let seen = try await a.waitFor("b's presence") { $0.messageType == "presence" && $0["client"] == .string("tab-b") }
            #expect(seen["editing"] == .string("src") && seen["user"] == .string("mia") && seen["cursor"]?.arrayItems.count == 2)
            #expect(!b.messages.contains { $0.messageType == "presence" && $0["client"] == .string("tab-b") })

            // A closed tab leaves at once.
            await v.close()
            try await a.waitFor("vic gone") { $0.messageType == "members" && $0["members"]?.arrayItems.count == 2 }

            // A saves what it has (through seq 5): a revision listing both contributors; the log is emptied.
            let stale = try await client.call(.put, "/api/v1/pipelines/\(pipeline)", token: root,
                                              json: .object(["document": .string(Self.document), "base_revision": .int(1), "live_seq": .int(4)]))
            #expect(stale.status == .conflict && stale.body["error"]?["code"] == .string("live_behind"))
            let saved = try await client.call(.put, "/api/v1/pipelines/\(pipeline)", token: root,
                                              json: .object(["document": .string(Self.document), "base_revision": .int(1), "live_seq": .int(5), "message": .string("together")]))
            #expect(saved.status == .ok, "\(saved.text)")
            try await b.waitFor("saved") { $0.messageType == "saved" && $0["revision"] == .int(2) }
            let revisions = try await client.call(.get, "/api/v1/pipelines/\(pipeline)/revisions", token: mia)
            #expect(revisions.body.arrayItems.first?["contributors"] == .array([.string("root"), .string("mia")]))

            // One more change, unsaved, then the server stops.
            b.send(Self.op(pipeline, 4, base: 5, Self.set("out", "path", #""kept.csv""#)))
            try await a.waitFor("unsaved op") { $0.messageType == "op" && $0["seq"] == .int(6) }
            await a.close()
            await b.close()
        }
        // A new server on the same store: a late joiner gets revision 2 plus the unsaved operation.
        await harness.state.close()
        var configuration = ServerConfiguration(dataDirectory: harness.directory.path, port: 0, workers: 0)
        configuration.bcryptCost = 4
        let restarted = ServerHarness(directory: harness.directory, state: try await ServerState.open(configuration), users: harness.users)
        try await restarted.withLiveServer(workers: 0) { client in
            let port = try #require(client.client.port)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let late = EventsClient(port: port)
            let joined = try await Self.join(late, mia, pipeline: pipelineBox.value, client: "tab-b")
            #expect(joined["revision"] == .int(2) && joined["seq"] == .int(6) && joined["last_op"] == .int(4))
            #expect(joined["ops"]?.arrayItems.map { $0["op"]?["value"] } == [.string(#""kept.csv""#)])
            await late.close()
        }
        await restarted.close()
    }
}

extension LiveEditingTests {
    /// A tab whose connection is lost without a close (no heartbeat any more) leaves the room within 10 s.
    @Test
    func aSilentTabLeavesTheRoomWithinTenSeconds() async throws {
        let harness = try await ServerHarness.make()
        try await harness.withLiveServer(workers: 0) { client in
            let port = try #require(client.client.port)
            let (root, _) = try await client.login("root", ServerHarness.adminPassword)
            let (mia, _) = try await client.login("mia", ServerHarness.memberPassword)
            let created = try await client.call(.post, "/api/v1/pipelines", token: root, json: .object(["document": .string(Self.document)]))
            let pipeline = try #require(created.body["id"]?.stringValue)
            _ = try await client.call(.put, "/api/v1/pipelines/\(pipeline)/shares/\(harness.member.id)", token: root, json: .object(["role": .string("viewer")]))
            let watcher = EventsClient(port: port), silent = EventsClient(port: port)
            _ = try await Self.join(watcher, root, pipeline: pipeline, client: "tab-w")
            _ = try await Self.join(silent, mia, pipeline: pipeline, client: "tab-s")
            try await watcher.waitFor("two members") { $0.messageType == "members" && $0["members"]?.arrayItems.count == 2 }
            // The watcher keeps sending its heartbeat; the other tab says nothing more.
            let started = ContinuousClock.now
            let heartbeat = Task {
                while !Task.isCancelled {
                    watcher.send(.object(["type": .string("presence"), "pipeline": .string(pipeline)]))
                    try await Task.sleep(for: .seconds(3))
                }
            }
            defer { heartbeat.cancel() }
            let before = watcher.messages.count
            while ContinuousClock.now - started < .seconds(12),
                  !watcher.messages.dropFirst(before).contains(where: { $0.messageType == "members" && $0["members"]?.arrayItems.count == 1 }) {
                try await Task.sleep(for: .milliseconds(100))
            }
            let gone = ContinuousClock.now - started
            #expect(gone < .seconds(10), "left after \(gone)")
            #expect(await silent.closedByServer(within: .seconds(2)))
            heartbeat.cancel()
            await watcher.close()
            await silent.close()
        }
        await harness.close()
    }
}

/// A value set inside a `@Sendable` closure and read after it.
final class Box<T: Sendable>: Sendable {
    private let stored = Mutex<T?>(nil)
    var value: T {
        get { stored.withLock { $0! } }
        set { stored.withLock { $0 = newValue } }
    }
}

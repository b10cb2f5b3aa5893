import Foundation
import NodeKit
import BuiltinNodes
import SQLiteAccess
@testable import Scheduler
import SluiceTestSupport
import Store
import Synchronization
import Testing

/// A clock the tests move by hand: the scheduler never sleeps in tests.
final class ManualClock: Sendable {
    private let millis: Mutex<Int64>
    init(_ iso: String) { millis = Mutex(Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 * 1000)) }
    var now: Int64 { millis.withLock { $0 } }
    func advance(seconds: Int64) { millis.withLock { $0 += seconds * 1000 } }
    func set(_ iso: String) { millis.withLock { $0 = Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 * 1000) } }
}

/// A store on a temp SQLite file with one pipeline, plus a scheduler over it.
struct SchedulerFixture {
    let directory: TemporaryDirectory
    let clock: ManualClock
    let store: MetadataStore
    let pipeline: PipelineRecord
    let scheduler: TriggerScheduler

    static func make(at iso: String = "2026-03-01T00:00:30Z", store location: StoreLocation? = nil,
                     connections: [Connection] = [], onScheduleLag: (@Sendable (String, Duration) -> Void)? = nil) async throws -> SchedulerFixture {
        let directory = try TemporaryDirectory()
        let clock = ManualClock(iso)
        let store = try await MetadataStore.open(location ?? .sqlite(path: directory.path + "/store.db"), now: { clock.now })
        let user = try await store.createUser(name: "root-\(UUID().uuidString.prefix(6))", role: .admin, passwordHash: "x")
        let pipeline = try await store.createPipeline(name: "p-\(UUID().uuidString.prefix(6))", document: "apiVersion: sluice/v1\nname: p\nnodes: []\n", message: "", author: user)
        let catalog = ConnectionCatalog(connections)
        let probes = TriggerProbes(connection: { name in
            guard let connection = catalog.connections[name] else { throw TriggerConfigError("unknown_connection", "no connection named '\(name)'", field: "settings.connection") }
            return connection
        }, connectors: BuiltinNodes.connectors, filesDirectory: directory.path + "/files")
        var dispatcher = TriggerDispatcher(store: store)
        dispatcher.onScheduleLag = onScheduleLag
        let scheduler = TriggerScheduler(store: store, dispatcher: dispatcher, probes: probes)
        return SchedulerFixture(directory: directory, clock: clock, store: store, pipeline: pipeline, scheduler: scheduler)
    }

    /// Creates a trigger from a JSON definition linked to the pipeline (parameters optional).
    func trigger(_ json: String, parameters: [String: String] = [:]) async throws -> TriggerRecord {
        var definition = try TriggerDefinition.parse(JSONValue.parse(json)!, readsLinks: true)
        definition.links = [TriggerLink(pipelineID: pipeline.id, parameters: parameters)]
        return try await store.createTrigger(definition.record(createdBy: "test"))
    }

    func close() async {
        await store.database.close()
        directory.remove()
    }
}

@Suite(.serialized)
struct TriggerSchedulerTests {
    @Test
    func cronFiresEachTimeOnceAndMissedTimesFollowThePolicy() async throws {
        let f = try await SchedulerFixture.make()
        defer { Task { await f.close() } }
        let trigger = try await f.trigger(#"{"name": "hourly", "kind": "cron", "settings": {"schedule": "0 * * * *"}, "overlap": "queue", "missed": "latest"}"#,
                                          parameters: ["at": "${event.scheduled_at}"])
        #expect(await f.scheduler.tick().isEmpty, "a new trigger does not fire for the past")
        f.clock.set("2026-03-01T01:00:10Z")
        let first = await f.scheduler.tick()
        #expect(first.map(\.outcome) == ["fired"] && first.first?.runIDs.count == 1)
        #expect(JSONValue.parse(first[0].eventJSON)?["scheduled_at"] == .string("2026-03-01T01:00:00Z"))
        #expect(JSONValue.parse(first[0].eventJSON)?["missed"] == .bool(false))
        let run = try #require(try await f.store.run(id: first[0].runIDs[0]))
        #expect(run.triggerID == trigger.id && run.parametersJSON == #"{"at":"2026-03-01T01:00:00Z"}"#)
        f.clock.advance(seconds: 20)
        #expect(await f.scheduler.tick().isEmpty, "the same fire time never fires twice")

        // Down from 01:00:30 to 06:30: 02:00…06:00 were missed; `latest` fires 06:00 only.
        f.clock.set("2026-03-01T06:30:00Z")
        let latest = await f.scheduler.tick()
        #expect(latest.map(\.outcome) == ["missed", "fired"], "\(latest)")
        #expect(JSONValue.parse(latest[0].eventJSON)?["dropped"] == .int(4))
        #expect(JSONValue.parse(latest[1].eventJSON)?["scheduled_at"] == .string("2026-03-01T06:00:00Z"))
        #expect(JSONValue.parse(latest[1].eventJSON)?["missed"] == .bool(true))

        // `all` with a cap of 3: 07…12 missed, the newest three fire, oldest first.
        var current = try #require(try await f.store.trigger(id: trigger.id))
        current.missed = "all"
        current.missedCap = 3
        _ = try await f.store.updateTrigger(current, resetStateJSON: nil)
        f.clock.set("2026-03-01T12:30:00Z")
        let all = await f.scheduler.tick()
        #expect(all.map(\.outcome) == ["missed", "fired", "fired", "fired"], "\(all)")
        #expect(all.dropFirst().map { JSONValue.parse($0.eventJSON)?["scheduled_at"]?.stringValue ?? "" }
                == ["2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"])

        // `none`: 13…15 are dropped, nothing fires; 16:00 on time fires normally.
        current = try #require(try await f.store.trigger(id: trigger.id))
        current.missed = "none"
        _ = try await f.store.updateTrigger(current, resetStateJSON: nil)
        f.clock.set("2026-03-01T15:30:00Z")
        #expect(await f.scheduler.tick().map(\.outcome) == ["missed"])
        f.clock.set("2026-03-01T16:00:01Z")
        #expect(await f.scheduler.tick().map(\.outcome) == ["fired"])
        let history = try await f.store.firings(triggerID: trigger.id, limit: 100)
        #expect(history.filter { $0.outcome == "fired" }.count == 6)
        #expect(try await f.store.runs(RunFilter(triggerID: trigger.id, limit: 100)).count == 6)
    }

    @Test
    func onTimeFiringsReportTheirLagMissedOnesDoNot() async throws {
        let lags = Mutex<[(String, Duration)]>([])
        let f = try await SchedulerFixture.make(onScheduleLag: { kind, lag in lags.withLock { $0.append((kind, lag)) } })
        defer { Task { await f.close() } }
        _ = try await f.trigger(#"{"name": "hourly", "kind": "cron", "settings": {"schedule": "0 * * * *"}, "missed": "latest"}"#)
        _ = await f.scheduler.tick()
        f.clock.set("2026-03-01T01:00:10Z")
        _ = await f.scheduler.tick()
        #expect(lags.withLock { $0.map(\.0) } == ["cron"])
        #expect(lags.withLock { $0.first?.1 } == .seconds(10))
        f.clock.set("2026-03-01T06:30:00Z")
        _ = await f.scheduler.tick()
        #expect(lags.withLock { $0.count } == 1, "a missed time fired late is not scheduler lag")
    }

    @Test
    func intervalsAlignToTheClockOrCountFromTheLastRun() async throws {
        let f = try await SchedulerFixture.make(at: "2026-03-01T00:00:00Z")
        defer { Task { await f.close() } }
        let aligned = try await f.trigger(#"{"name": "every-15m", "kind": "interval", "settings": {"every": "15m"}, "overlap": "queue"}"#)
        _ = await f.scheduler.tick()
        var times: [String] = []
        for at in ["2026-03-01T00:14:59Z", "2026-03-01T00:15:20Z", "2026-03-01T00:29:00Z", "2026-03-01T00:30:01Z"] {
            f.clock.set(at)
            times += await f.scheduler.tick().filter { $0.triggerID == aligned.id }.compactMap { JSONValue.parse($0.eventJSON)?["scheduled_at"]?.stringValue }
        }
        #expect(times == ["2026-03-01T00:15:00Z", "2026-03-01T00:30:00Z"])
        _ = try await f.store.setTriggerEnabled(id: aligned.id, enabled: false)
        while let run = try await RunQueue(store: f.store, bus: LocalEventBus()).claim(workerID: "w", leaseMillis: 60_000) {
            _ = try await RunQueue(store: f.store, bus: LocalEventBus()).finish(runID: run.id, workerID: "w", phase: .succeeded, error: nil, rejected: 0)
        }

        let fromLastRun = try await f.trigger(#"{"name": "after-run", "kind": "interval", "settings": {"every": "10m", "align": "last_run"}, "overlap": "queue"}"#)
        _ = await f.scheduler.tick()
        f.clock.advance(seconds: 600)
        let first = await f.scheduler.tick()
        #expect(first.count == 1)
        // While its run is queued or running, it waits, however long that takes.
        f.clock.advance(seconds: 3600)
        #expect(await f.scheduler.tick().isEmpty)
        // The run finishes at T; the next firing is T + 10 minutes.
        let runID = first[0].runIDs[0]
        let claimed = try #require(try await RunQueue(store: f.store, bus: LocalEventBus()).claim(workerID: "w", leaseMillis: 60_000))
        #expect(claimed.id == runID)
        _ = try await RunQueue(store: f.store, bus: LocalEventBus()).finish(runID: runID, workerID: "w", phase: .succeeded, error: nil, rejected: 0)
        f.clock.advance(seconds: 599)
        #expect(await f.scheduler.tick().isEmpty)
        f.clock.advance(seconds: 1)
        #expect(await f.scheduler.tick().map(\.triggerID) == [fromLastRun.id])
    }

    @Test
    func overlapPoliciesSkipQueueOrCancelThePreviousRun() async throws {
        let f = try await SchedulerFixture.make()
        defer { Task { await f.close() } }
        let earlier = try await RunQueue(store: f.store, bus: LocalEventBus()).enqueue(pipelineID: f.pipeline.id, revision: 1, parametersJSON: "{}", requestedBy: "test")
        let event = TriggerEvent(["n": .int(1)])
        let skip = try await f.trigger(#"{"name": "s", "kind": "webhook", "overlap": "skip"}"#)
        let skipped = try #require(try await f.scheduler.dispatcher.fire(skip, rule: nil, event: event, expectedVersion: nil, newState: nil))
        #expect(skipped.outcome == "skipped" && skipped.runIDs.isEmpty && skipped.detail?.contains(earlier.id) == true, "\(skipped)")
        let queue = try await f.trigger(#"{"name": "q", "kind": "webhook", "overlap": "queue"}"#)
        let queued = try #require(try await f.scheduler.dispatcher.fire(queue, rule: nil, event: event, expectedVersion: nil, newState: nil))
        #expect(queued.outcome == "fired" && queued.runIDs.count == 1)
        let cancel = try await f.trigger(#"{"name": "c", "kind": "webhook", "overlap": "cancel-previous"}"#)
        let replaced = try #require(try await f.scheduler.dispatcher.fire(cancel, rule: nil, event: event, expectedVersion: nil, newState: nil))
        #expect(replaced.outcome == "fired" && replaced.runIDs.count == 1)
        #expect(try await f.store.run(id: earlier.id)?.phase == .cancelled)
        #expect(try await f.store.run(id: queued.runIDs[0])?.phase == .cancelled)
        #expect(try await f.store.activeRuns(pipelineID: f.pipeline.id).map(\.id) == replaced.runIDs)
    }

    @Test
    func twoSchedulersTickingAtOnceFireEachTimeOnce() async throws {
        let f = try await SchedulerFixture.make()
        defer { Task { await f.close() } }
        let other = TriggerScheduler(store: f.store, dispatcher: TriggerDispatcher(store: f.store), probes: TriggerProbes())
        let trigger = try await f.trigger(#"{"name": "every-minute", "kind": "cron", "settings": {"schedule": "* * * * *"}, "overlap": "queue", "missed": "all", "missed_cap": 1000}"#)
        _ = await f.scheduler.tick()
        for _ in 0..<20 {
            f.clock.advance(seconds: 37)
            async let a = f.scheduler.tick()
            async let b = other.tick()
            _ = await (a, b)
        }
        let times = try await f.store.firings(triggerID: trigger.id, limit: 1000).compactMap { JSONValue.parse($0.eventJSON)?["scheduled_at"]?.stringValue }
        #expect(times.count == Set(times).count, "a fire time fired twice: \(times.sorted())")
        #expect(times.count == 12, "12 minutes passed (00:00:30 + 740 s): \(times.sorted())")
    }

    @Test
    func sqliteWatermarkFiresWhenTheValueGrowsAndTheRuleFilters() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/source.db"
        let db = try SQLiteDatabase(path: path, readOnly: false)
        try db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at TEXT NOT NULL)")
        try db.execute("INSERT INTO events (updated_at) VALUES ('2026-03-01T00:00:00Z'), ('2026-03-01T00:05:00Z')")
        let connection = Connection(name: "src", type: "sqlite", settings: Setting(.map([Setting.Entry(key: "path", keyLocation: nil, value: Setting(.string(path)))])),
                                    secrets: [:], location: nil)
        let f = try await SchedulerFixture.make(connections: [connection])
        defer { Task { await f.close() } }
        let trigger = try await f.trigger(#"{"name": "new-events", "kind": "watermark", "rule": "new_rows >= 2", "overlap": "queue", "settings": {"connection": "src", "table": "events", "column": "updated_at", "pollEvery": "30s"}}"#,
                                          parameters: ["since": "${event.old_watermark}"])
        #expect(await f.scheduler.tick().isEmpty, "the first poll records a baseline")
        #expect(JSONValue.parse(try #require(try await f.store.trigger(id: trigger.id)).stateJSON)?["watermark"] == .string("2026-03-01T00:05:00Z"))
        try db.execute("INSERT INTO events (updated_at) VALUES ('2026-03-01T00:06:00Z')")
        #expect(await f.scheduler.tick().isEmpty, "not polled again before poll_every")
        f.clock.advance(seconds: 30)
        let filtered = await f.scheduler.tick()
        #expect(filtered.map(\.outcome) == ["filtered"] && filtered.first?.ruleResult == "false", "one new row: the rule says no")
        try db.execute("INSERT INTO events (updated_at) VALUES ('2026-03-01T00:07:00Z'), ('2026-03-01T00:08:00Z')")
        f.clock.advance(seconds: 30)
        let fired = await f.scheduler.tick()
        #expect(fired.map(\.outcome) == ["fired"], "\(fired)")
        let event = JSONValue.parse(fired[0].eventJSON)
        #expect(event?["old_watermark"] == .string("2026-03-01T00:06:00Z") && event?["new_watermark"] == .string("2026-03-01T00:08:00Z") && event?["new_rows"] == .int(2))
        #expect(try await f.store.run(id: fired[0].runIDs[0])?.parametersJSON == #"{"since":"2026-03-01T00:06:00Z"}"#)
        f.clock.advance(seconds: 30)
        #expect(await f.scheduler.tick().isEmpty, "unchanged watermark: nothing fires")
    }

    @Test
    func aWatermarkOnAConnectionThatCannotAnswerItSaysWhichTypesCan() async throws {
        let mail = Connection(name: "mail", type: "imap", settings: Setting(.map([Setting.Entry(key: "host", keyLocation: nil, value: Setting(.string("127.0.0.1")))])),
                              secrets: [:], location: nil)
        let f = try await SchedulerFixture.make(connections: [mail])
        defer { Task { await f.close() } }
        let trigger = try await f.trigger(#"{"name": "wrong", "kind": "watermark", "settings": {"connection": "mail", "table": "t", "column": "c"}}"#)
        do {
            _ = try await f.scheduler.check(trigger)
            Issue.record("a watermark on an imap connection cannot be polled")
        } catch let error as TriggerConfigError {
            #expect(error.code == "connection_type_mismatch" && error.field == "settings.connection")
            #expect(error.message.contains("connection 'mail' is of type imap; watermark triggers need a sqlite or postgres connection"), "\(error.message)")
        }
    }

    @Test
    func postgresWatermarkOnATimestampColumn() async throws {
        let database = try PostgresTestServer.createDatabase()
        _ = try PostgresTestServer.psql(database, "CREATE TABLE \"Orders\" (id serial PRIMARY KEY, \"changed at\" timestamptz NOT NULL); INSERT INTO \"Orders\" (\"changed at\") VALUES ('2026-03-01 10:00:00+00')")
        let connection = Connection(name: "wh", type: "postgres", settings: Setting(.map([
            ("host", Setting(.string("127.0.0.1"))), ("port", Setting(.int(Int64(try PostgresTestServer.port)))), ("database", Setting(.string(database))),
            ("user", Setting(.string("postgres"))), ("sslmode", Setting(.string("disable"))),
        ].map { Setting.Entry(key: $0.0, keyLocation: nil, value: $0.1) })), secrets: [:], location: nil)
        let f = try await SchedulerFixture.make(connections: [connection])
        defer { Task { await f.close() } }
        _ = try await f.trigger(#"{"name": "orders", "kind": "watermark", "overlap": "queue", "settings": {"connection": "wh", "table": "public.Orders", "column": "changed at", "pollEvery": 10}}"#)
        #expect(await f.scheduler.tick().isEmpty)
        _ = try PostgresTestServer.psql(database, "INSERT INTO \"Orders\" (\"changed at\") VALUES ('2026-03-01 11:00:00+00'), ('2026-03-01 12:00:00+00'), ('2026-03-01 09:00:00+00')")
        f.clock.advance(seconds: 10)
        let fired = await f.scheduler.tick()
        #expect(fired.map(\.outcome) == ["fired"], "\(fired)")
        let event = JSONValue.parse(fired.first?.eventJSON ?? "{}")
        #expect(event?["new_rows"] == .int(2), "rows newer than the old watermark: \(fired)")
        #expect(event?["new_watermark"]?.stringValue?.hasPrefix("2026-03-01 12:00:00") == true, "\(fired)")
    }

    @Test
    func fileArrivalFiresOncePerSettledFile() async throws {
        let f = try await SchedulerFixture.make()
        defer { Task { await f.close() } }
        let inbox = f.directory.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let trigger = try await f.trigger(#"{"name": "drops", "kind": "file", "overlap": "queue", "settings": {"directory": "\#(inbox)", "glob": "*.csv", "settle": "5s", "pollEvery": "1s"}}"#,
                                          parameters: ["input": "${event.path}"])
        try "a,b\n1,2\n".write(toFile: inbox + "/orders.csv", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: inbox + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(await f.scheduler.tick().isEmpty, "seen, now settling")
        f.clock.advance(seconds: 2)
        #expect(await f.scheduler.tick().isEmpty, "not settled yet")
        f.clock.advance(seconds: 4)
        let fired = await f.scheduler.tick()
        #expect(fired.count == 1 && JSONValue.parse(fired[0].eventJSON)?["path"] == .string(inbox + "/orders.csv"), "\(fired)")
        #expect(try await f.store.run(id: fired[0].runIDs[0])?.parametersJSON.contains("orders.csv") == true)
        for _ in 0..<3 {
            f.clock.advance(seconds: 10)
            #expect(await f.scheduler.tick().isEmpty, "a file fires once")
        }
        // A restarted scheduler (new instance, same store) remembers it.
        let restarted = TriggerScheduler(store: f.store, dispatcher: TriggerDispatcher(store: f.store), probes: TriggerProbes())
        #expect(await restarted.tick().isEmpty)
        // A file still growing waits until its size holds for the settle time.
        #expect(FileManager.default.createFile(atPath: inbox + "/big.csv", contents: Data("x\n".utf8)))
        let handle = try #require(FileHandle(forWritingAtPath: inbox + "/big.csv"))
        _ = await restarted.tick()
        for _ in 0..<3 {
            f.clock.advance(seconds: 4)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("more\n".utf8))
            #expect(await restarted.tick().isEmpty, "still growing")
        }
        try handle.close()
        f.clock.advance(seconds: 3)
        #expect(await restarted.tick().isEmpty, "stable for 3 s of the 5 s settle time")
        f.clock.advance(seconds: 3)
        #expect(await restarted.tick().compactMap { JSONValue.parse($0.eventJSON)?["name"]?.stringValue } == ["big.csv"])
        #expect(try await f.store.firings(triggerID: trigger.id).count == 2)
    }

    @Test
    func fileArrivalCanMoveFilesToProcessed() async throws {
        let f = try await SchedulerFixture.make()
        defer { Task { await f.close() } }
        let inbox = f.directory.path + "/drop"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        _ = try await f.trigger(#"{"name": "moving", "kind": "file", "overlap": "queue", "settings": {"directory": "\#(inbox)", "settle": "1s", "pollEvery": "1s", "after": "move"}}"#)
        try "1\n".write(toFile: inbox + "/a.csv", atomically: true, encoding: .utf8)
        _ = await f.scheduler.tick()
        f.clock.advance(seconds: 2)
        let fired = await f.scheduler.tick()
        #expect(fired.count == 1 && JSONValue.parse(fired[0].eventJSON)?["path"] == .string(inbox + "/processed/a.csv"))
        #expect(FileManager.default.fileExists(atPath: inbox + "/processed/a.csv") && !FileManager.default.fileExists(atPath: inbox + "/a.csv"))
        // The same name arriving again is a new file, even with the same size and modification time (file times
        // advance in steps of a few milliseconds, so a quick second write can share the first one's).
        let firstModified = try #require(try FileManager.default.attributesOfItem(atPath: inbox + "/processed/a.csv")[.modificationDate] as? Date)
        try "2\n".write(toFile: inbox + "/a.csv", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: firstModified], ofItemAtPath: inbox + "/a.csv")
        f.clock.advance(seconds: 2)
        _ = await f.scheduler.tick()
        f.clock.advance(seconds: 2)
        #expect(await f.scheduler.tick().count == 1)
        #expect(try String(contentsOfFile: inbox + "/processed/a.csv", encoding: .utf8) == "2\n")
    }

    @Test(.timeLimit(.minutes(2)))
    func httpPollFiresWhenTheResourceChanges() async throws {
        let f = try await SchedulerFixture.make()
        defer { Task { await f.close() } }
        let site = f.directory.path + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try #"{"version": 1}"#.write(toFile: site + "/feed.json", atomically: true, encoding: .utf8)
        let server = try ChildProcess("/usr/bin/python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", site], logPath: f.directory.path + "/http.log")
        #expect(await server.waitForOutput("Serving HTTP"), "\(server.output)")
        let port = try #require(server.output.firstMatch(of: /port (\d+)/).map { String($0.1) }, "\(server.output)")
        let url = "http://127.0.0.1:\(port)/feed.json"
        _ = try await f.trigger(#"{"name": "feed", "kind": "http_poll", "overlap": "queue", "settings": {"url": "\#(url)", "pollEvery": "1m"}}"#)
        #expect(await f.scheduler.tick().isEmpty, "the first poll is the baseline")
        f.clock.advance(seconds: 60)
        #expect(await f.scheduler.tick().isEmpty, "unchanged (304 Not Modified or the same body)")
        try await Task.sleep(for: .milliseconds(1100)) // Last-Modified has one-second resolution
        try #"{"version": 2}"#.write(toFile: site + "/feed.json", atomically: true, encoding: .utf8)
        f.clock.advance(seconds: 60)
        let fired = await f.scheduler.tick()
        #expect(fired.count == 1, "\(fired)")
        let event = JSONValue.parse(fired.first?.eventJSON ?? "{}")
        #expect(event?["status"] == .int(200) && event?["body"] == .string(#"{"version": 2}"#), "\(fired)")
        f.clock.advance(seconds: 60)
        #expect(await f.scheduler.tick().isEmpty)
        await server.stop()
    }

    @Test
    func onlyOneStoreUserHoldsTheSchedulingRole() async throws {
        let database = try PostgresTestServer.createDatabase()
        let location = try StoreLocation.parse("postgres://postgres@127.0.0.1:\(try PostgresTestServer.port)/\(database)")
        let first = try await MetadataStore.open(location), second = try await MetadataStore.open(location)
        let (entered, enteredSignal) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            // `entered` ends with the holder too, so a holder that never leads fails the test instead of hanging it.
            defer { enteredSignal.finish() }
            return try await first.whileLeader { stillLeader in
                #expect(await stillLeader())
                enteredSignal.yield()
                for await _ in release { break }
            }
        }
        for await _ in entered { break }
        #expect(try await second.whileLeader { _ in Issue.record("two leaders at once") } == false)
        releaseSignal.yield()
        #expect(try await holder.value == true)
        #expect(try await second.whileLeader { _ in } == true, "the role passes on once released")
        await first.database.close()
        await second.database.close()

        // SQLite: a lock file beside the database.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let a = try await MetadataStore.open(.sqlite(path: directory.path + "/s.db")), b = try await MetadataStore.open(.sqlite(path: directory.path + "/s.db"))
        _ = try await a.whileLeader { _ async throws in
            let second = try await b.whileLeader { _ in Issue.record("two leaders at once") }
            #expect(second == false)
        }
        #expect(try await b.whileLeader { _ in } == true)
    }
}

/// The `file` trigger on an `s3` connection's folder, against moto on loopback: settle, fire once, move to processed/.
@Suite struct S3FileTriggerTests {
    func curl(_ arguments: [String]) throws -> ProcessResult {
        try runProcess("/usr/bin/curl", ["-s", "-f"] + arguments)
    }

    /// An object's text read with a signed request (boto3, installed with moto), or nil when there is none.
    func object(_ bucket: String, _ key: String) throws -> String? {
        let script = """
        sys = __import__("sys")
        s3 = __import__("boto3").client("s3", endpoint_url="http://127.0.0.1:\(try S3TestServer.port)", aws_access_key_id="testing", aws_secret_access_key="x", region_name="us-east-1")
        try:
            sys.stdout.write(s3.get_object(Bucket="\(bucket)", Key="\(key)")["Body"].read().decode())
        except s3.exceptions.NoSuchKey:
            sys.exit(3)
        """
        let result = try runProcess("/usr/bin/env", ["python3", "-c", script])
        return result.status == 0 ? result.stdout : nil
    }

    @Test func objectsArrivingInAPrefixFireOnceAndMoveToProcessed() async throws {
        let bucket = S3TestServer.bucketName()
        let base = "http://127.0.0.1:\(try S3TestServer.port)/\(bucket)"
        // moto accepts these without a signature; Sluice's own requests are signed.
        #expect(try curl(["-X", "PUT", base]).status == 0)
        let catalog = try ConnectionsFile.parse(try S3TestServer.connectionYAML("lake", bucket: bucket), file: nil, specs: BuiltinNodes.connectors.specs,
                                                environment: [:])
        let f = try await SchedulerFixture.make(connections: Array(catalog.connections.values))
        defer { Task { await f.close() } }
        _ = try await f.trigger(#"{"name": "lake-drops", "kind": "file", "overlap": "queue", "settings": {"connection": "lake", "directory": "incoming", "glob": "*.csv", "settle": "2s", "pollEvery": "1s", "after": "move"}}"#,
                                parameters: ["input": "${event.path}"])
        #expect(try curl(["-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary", "id\n1\n", "\(base)/incoming/a.csv"]).status == 0)
        #expect(try curl(["-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary", "id\n2\n", "\(base)/incoming/deeper/b.csv"]).status == 0)
        #expect(try curl(["-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary", "x", "\(base)/incoming/notes.txt"]).status == 0)
        #expect(await f.scheduler.tick().isEmpty, "seen, now settling")
        f.clock.advance(seconds: 3)
        let fired = await f.scheduler.tick()
        let event = fired.first.flatMap { JSONValue.parse($0.eventJSON) }
        #expect(fired.count == 1 && event?["path"] == .string("incoming/processed/a.csv") && event?["size"] == .int(5), "\(fired.map(\.eventJSON))")
        #expect(try object(bucket, "incoming/processed/a.csv") == "id\n1\n")
        #expect(try object(bucket, "incoming/a.csv") == nil, "moved away")
        for _ in 0..<2 {
            f.clock.advance(seconds: 5)
            #expect(await f.scheduler.tick().isEmpty, "fires once; deeper folders and other names are not watched")
        }
    }
}

/// The `file` trigger on an `sftp` connection's folder, against OpenSSH's sshd on loopback: fire once, move to processed/.
@Suite struct SFTPFileTriggerTests {
    @Test func filesArrivingInAFolderFireOnceAndMoveToProcessed() async throws {
        let server = try SFTPTestServer.server
        let folder = "trigger-" + UUID().uuidString.prefix(8).lowercased()
        let incoming = server.files + "/" + folder + "/incoming"
        try FileManager.default.createDirectory(atPath: incoming + "/deeper", withIntermediateDirectories: true)
        try "id\n1\n".write(toFile: incoming + "/a.csv", atomically: true, encoding: .utf8)
        try "id\n2\n".write(toFile: incoming + "/deeper/b.csv", atomically: true, encoding: .utf8)
        // The SFTP user must be able to move files out of the folder.
        #expect(try runProcess("/bin/chown", ["-R", server.user, server.files + "/" + folder]).status == 0)
        let catalog = try ConnectionsFile.parse(server.connectionYAML("partner", key: "ed25519"), file: nil, specs: BuiltinNodes.connectors.specs, environment: [:])
        let f = try await SchedulerFixture.make(connections: Array(catalog.connections.values))
        defer { Task { await f.close() } }
        _ = try await f.trigger(#"{"name": "partner-drops", "kind": "file", "overlap": "queue", "settings": {"connection": "partner", "directory": "\#(folder)/incoming", "glob": "*.csv", "settle": "2s", "pollEvery": "1s", "after": "move"}}"#)
        #expect(await f.scheduler.tick().isEmpty, "seen, now settling")
        f.clock.advance(seconds: 3)
        let fired = await f.scheduler.tick()
        let event = fired.first.flatMap { JSONValue.parse($0.eventJSON) }
        #expect(fired.count == 1 && event?["path"] == .string("\(folder)/incoming/processed/a.csv") && event?["size"] == .int(5), "\(fired.map(\.eventJSON))")
        #expect(FileManager.default.fileExists(atPath: incoming + "/processed/a.csv") && !FileManager.default.fileExists(atPath: incoming + "/a.csv"))
        f.clock.advance(seconds: 5)
        #expect(await f.scheduler.tick().isEmpty, "fires once; deeper folders are not watched")
    }
}

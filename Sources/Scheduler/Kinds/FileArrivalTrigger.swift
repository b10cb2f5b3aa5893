import Foundation
public import NodeKit
public import Store

/// `file`: new files in a directory (of the workspace, or of a file connection's store: an s3 prefix), fired once
/// each when their size and modification time hold still.
public struct FileArrivalTrigger: TriggerKind {
    enum After: String, Choice { case remember, move }

    static let directory = Field<FilePath>("directory", summary: "Directory to watch: inside the workspace, or a folder (key prefix) of the connection's store.", example: "incoming")
    static let connection = Field<ConnectionName?>("connection", summary: "A file connection (s3) whose folder to watch; the workspace when absent.", example: "lake")
    static let glob = Field<String>("glob", summary: "File name pattern.", default: "*", example: "*.csv")
    static let settle = Field<Duration>("settle", summary: "How long size and modification time must hold still.", default: .seconds(5))
    static let pollEvery = Field<Duration>("pollEvery", summary: "How often to check (30s, 15m, 2h).", default: .seconds(5))
    static let after = Field<After>("after", summary: "remember the fired files, or move them to processed/.", default: .remember)

    public static let name = "file"
    public static let summary = "When a new file arrives in a directory (of the workspace or an s3 bucket)."
    public static let fields = [directory.spec, connection.spec, glob.spec, settle.spec, pollEvery.spec, after.spec]
    public static let sampleEvent: TriggerEvent? = TriggerEvent(["path": .string(""), "name": .string(""), "size": .int(0), "modified_at": .string("")])

    public var directory: String
    public let connection: String?
    public let glob: String
    public let settleMillis: Int64
    public let pollMillis: Int64
    public let moveToProcessed: Bool

    public init(_ settings: Settings) throws(ConfigError) {
        directory = try settings[Self.directory].path
        connection = try settings[Self.connection]?.name
        glob = try settings[Self.glob]
        if glob.contains("/") { throw settings.error(Self.glob, "a file name pattern has no '/': the trigger watches one folder") }
        settleMillis = try settings.millis(Self.settle)
        pollMillis = try settings.millis(Self.pollEvery)
        moveToProcessed = try settings[Self.after] == .move
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        let (store, folder) = try await watched(scheduler.probes)
        let listing = try await list(store, folder)
        let (result, alreadyFired) = poll(listing, folder: folder, state: state, now: now, local: store is LocalFileStore)
        let fired = try await scheduler.apply(result, trigger, definition)
        if moveToProcessed {
            // Files fired now, and fired before but still here (a move that failed last time).
            let names = fired.compactMap { JSONValue.parse($0.eventJSON)?["name"]?.stringValue } + alreadyFired
            for name in names { try? await store.move(folder + name, to: folder + "processed/" + name) }
        }
        return fired
    }

    /// The store and the folder (ending in `/`, or empty for a bucket's root) the trigger watches.
    func watched(_ probes: TriggerProbes) async throws -> (any FileStore, String) {
        guard let connection else {
            let resolved = try probes.directory(directory, field: "settings.directory")
            var info = stat()
            guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, access(resolved, R_OK) == 0 else {
                throw TriggerConfigError("unreadable_directory", "cannot read directory '\(resolved)'", field: "settings.directory")
            }
            return (LocalFileStore(files: probes.files), resolved.hasSuffix("/") ? resolved : resolved + "/")
        }
        let (named, connector) = try await probes.connection(connection, offering: (any FileStoring.Type).self, for: "file triggers on a connection")
        let store: any FileStore
        do { store = try connector.fileStore(named, outbound: named.outbound) } catch let error as ConfigError {
            throw TriggerConfigError(error.code, error.message, field: "settings.connection")
        }
        var folder = directory.hasPrefix("/") ? String(directory.dropFirst()) : directory
        if folder == "." { folder = "" }
        if !folder.isEmpty, !folder.hasSuffix("/") { folder += "/" }
        return (store, folder)
    }

    /// The files directly in the folder that match the glob.
    func list(_ store: any FileStore, _ folder: String) async throws -> [StoredFile] {
        do { return try await store.list(folder + glob) } catch let error as ConfigError {
            throw TriggerConfigError(error.code, error.message, field: connection == nil ? "settings.directory" : "settings.connection")
        } catch let error as NodeError {
            throw TriggerConfigError("unreadable_directory", "cannot list '\(folder)' in \(store.label): \(error.message)", field: "settings.directory")
        }
    }
}

/// `file`: new files matching a glob, fired once each after their size stayed the same for the settle time.
///
/// State: `seen` maps a file name to the identity of the version already fired (`size:mtime:inode` for local
/// files, `size:mtime:etag` in a store); the same name with another identity is a new file. (File times advance in
/// steps of a few milliseconds, so a file replaced at once by one of the same size can share its mtime; entries
/// saved before the inode was kept are `size:mtime` and still match.) `pending` holds files still settling. With
/// `after: move`, a fired file is moved to `processed/` in the folder and the event's `path` is where it was moved.
extension FileArrivalTrigger {
    /// What to fire, and the names of files fired before that are still in the folder.
    func poll(_ files: [StoredFile], folder: String, state: JSONValue, now: Int64, local: Bool) -> (PollResult, [String]) {
        var seen = state["seen"]?.objectValue ?? [:]
        var pending = state["pending"]?.objectValue ?? [:]
        let before = JSONValue.object(["seen": .object(seen), "pending": .object(pending)])
        var result = PollResult()
        var present: Set<String> = []
        var alreadyFired: [String] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            let name = String(file.path.dropFirst(folder.count))
            guard !name.isEmpty, !name.contains("/") else { continue }
            present.insert(name)
            let size = file.size ?? 0
            let modified = file.modified ?? 0
            let identity = "\(size):\(modified):\(file.etag ?? (local ? Self.inode(file.path) : "-"))"
            if let fired = seen[name]?.stringValue, fired == identity || fired == "\(size):\(modified)" {
                alreadyFired.append(name)
                continue
            }
            if let waiting = pending[name]?.objectValue, waiting["identity"]?.stringValue == identity {
                guard now - (waiting["since"]?.intValue ?? now) >= settleMillis else { continue }
                pending[name] = nil
                seen[name] = .string(identity)
                let firedPath = moveToProcessed ? folder + "processed/" + name : file.path
                let event = TriggerEvent(["path": .string(firedPath), "name": .string(name), "size": .int(size), "modified_at": .string(TimeTriggers.iso(modified))])
                result.events.append((event, .object(["seen": .object(seen), "pending": .object(pending)])))
            } else {
                pending[name] = .object(["identity": .string(identity), "since": .int(now)])
            }
        }
        // Forget files that are gone (a later file with the same name is new); moved files are gone once moved.
        for name in seen.keys where !present.contains(name) { seen[name] = nil }
        for name in pending.keys where !present.contains(name) { pending[name] = nil }
        let after = JSONValue.object(["seen": .object(seen), "pending": .object(pending)])
        if result.events.isEmpty, after != before { result.quietState = after }
        if !result.events.isEmpty, after != result.events.last!.state { result.events[result.events.count - 1].state = after }
        return (result, alreadyFired)
    }

    /// A local file's inode, so a file replaced by another of the same size and time is still new.
    static func inode(_ path: String) -> String {
        var info = stat()
        return stat(path, &info) == 0 ? "\(info.st_ino)" : "0"
    }
}

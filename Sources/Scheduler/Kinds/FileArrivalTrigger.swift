import Foundation
public import NodeKit
public import Store

/// `file`: new files in a directory, fired once each when their size and modification time hold still.
public struct FileArrivalTrigger: TriggerKind {
    enum After: String, Choice { case remember, move }

    static let directory = Field<FilePath>("directory", summary: "Directory to watch, inside the workspace.", example: "incoming")
    static let glob = Field<String>("glob", summary: "File name pattern.", default: "*", example: "*.csv")
    static let settle = Field<Duration>("settle", summary: "How long size and modification time must hold still.", default: .seconds(5))
    static let pollEvery = Field<Duration>("pollEvery", summary: "How often to check (30s, 15m, 2h).", default: .seconds(5))
    static let after = Field<After>("after", summary: "remember the fired files, or move them to processed/.", default: .remember)

    public static let name = "file"
    public static let summary = "When a new file arrives in a directory."
    public static let fields = [directory.spec, glob.spec, settle.spec, pollEvery.spec, after.spec]
    public static let sampleEvent: TriggerEvent? = TriggerEvent(["path": .string(""), "name": .string(""), "size": .int(0), "modified_at": .string("")])

    public var directory: String
    public let glob: String
    public let settleMillis: Int64
    public let pollMillis: Int64
    public let moveToProcessed: Bool

    public init(_ settings: Settings) throws(ConfigError) {
        directory = try settings[Self.directory].path
        glob = try settings[Self.glob]
        settleMillis = try settings.millis(Self.settle)
        pollMillis = try settings.millis(Self.pollEvery)
        moveToProcessed = try settings[Self.after] == .move
    }

    public func check(_ trigger: TriggerRecord, _ definition: TriggerDefinition, state: JSONValue, now: Int64, in scheduler: TriggerScheduler) async throws -> [TriggerFiring] {
        let fired = try await scheduler.apply(try poll(state: state, now: now, files: scheduler.probes.files), trigger, definition)
        if moveToProcessed {
            // The directory as the poll resolved it (inside the workspace).
            var resolved = self
            resolved.directory = (try? scheduler.probes.files.resolve(directory)) ?? directory
            for firing in fired { if let name = JSONValue.parse(firing.eventJSON)?["name"]?.stringValue { try? resolved.moveToProcessed(name) } }
        }
        return fired
    }
}

/// `file`: new files matching a glob, fired once each after their size stayed the same for the settle time.
///
/// State: `seen` maps a file name to `size:mtime:inode` of the version already fired; the same name with another
/// size, modification time or inode is a new file. (File times advance in steps of a few milliseconds, so a file
/// replaced at once by one of the same size can share its mtime; entries saved before the inode was kept are
/// `size:mtime` and still match.) `pending` holds files still settling. With `after: move`, a fired file is
/// moved to `processed/` in the directory and the event's `path` is where it was moved.
extension FileArrivalTrigger {
    func poll(state: JSONValue, now: Int64, files: FileRoots = .unconfined(base: "/")) throws -> PollResult {
        var settings = self
        do { settings.directory = try files.resolve(settings.directory) } catch {
            throw TriggerConfigError(error.code, error.message, field: "settings.directory")
        }
        let manager = FileManager.default
        var seen = state["seen"]?.objectValue ?? [:]
        var pending = state["pending"]?.objectValue ?? [:]
        let before = JSONValue.object(["seen": .object(seen), "pending": .object(pending)])
        guard let names = try? manager.contentsOfDirectory(atPath: settings.directory) else {
            throw TriggerConfigError("unreadable_directory", "cannot read directory '\(settings.directory)'", field: "settings.directory")
        }
        var result = PollResult()
        var present: Set<String> = []
        for name in names.sorted() where fnmatch(settings.glob, name, 0) == 0 && !name.hasPrefix(".") {
            let path = settings.directory + "/" + name
            guard let attributes = try? manager.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            present.insert(name)
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            let modified = Int64(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000)
            let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
            let identity = "\(size):\(modified):\(inode)"
            if let fired = seen[name]?.stringValue, fired == identity || fired == "\(size):\(modified)" {
                if settings.moveToProcessed { try? settings.moveToProcessed(name) }
                continue
            }
            if let waiting = pending[name]?.objectValue, waiting["identity"]?.stringValue == identity {
                guard now - (waiting["since"]?.intValue ?? now) >= settings.settleMillis else { continue }
                pending[name] = nil
                seen[name] = .string(identity)
                let firedPath = settings.moveToProcessed ? settings.directory + "/processed/" + name : path
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
        return result
    }

    /// Moves a fired file to `processed/` (after its firing committed).
    func moveToProcessed(_ name: String) throws {
        let settings = self
        let manager = FileManager.default
        let folder = settings.directory + "/processed"
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let target = folder + "/" + name
        if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
        try manager.moveItem(atPath: settings.directory + "/" + name, toPath: target)
    }
}

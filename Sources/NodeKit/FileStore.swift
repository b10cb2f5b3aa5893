/// A place files live: the workspace's disk, an S3 bucket, a web server. Every file node reads and writes
/// through one, so a format (CSV, JSONL) is written once and works on every store.
///
/// Paths are store-relative (`landing/2026/orders.csv`); `list` expands globs (`*`, `?`, `**`). Outputs are
/// atomic: nothing is visible at the target until the run commits (`FileDestination.finish` returns the commit).
public protocol FileStore: Sendable {
    /// Names the store in messages: "s3 connection 'lake'", "the workspace".
    var label: String { get }
    /// Whether the store accepts writes (an `https` source does not).
    var isWritable: Bool { get }
    /// The files a path or glob names, sorted by path; an empty list when nothing matches.
    func list(_ pattern: String) async throws -> [StoredFile]
    /// Opens a file for reading from its start.
    func open(_ file: StoredFile) async throws -> any ByteStream
    /// Starts writing `path` for run `runID`; the file appears only when the returned destination's commit runs.
    func create(_ path: String, runID: String) async throws -> any FileDestination
    /// Moves a file (replacing what is at `target`), for triggers that move fired files to `processed/`.
    func move(_ path: String, to target: String) async throws
}

extension FileStore {
    public var isWritable: Bool { true }

    public func move(_ path: String, to target: String) async throws {
        throw NodeError(code: "read_only_store", message: "\(label) cannot move files")
    }
}

/// A file a store listed: its path in the store, size, modification time and entity tag where the store has them.
public struct StoredFile: Sendable, Hashable, Codable {
    public let path: String
    public let size: Int64?
    /// Milliseconds since 1970 (UTC).
    public let modified: Int64?
    public let etag: String?

    public init(path: String, size: Int64?, modified: Int64? = nil, etag: String? = nil) {
        self.path = path
        self.size = size
        self.modified = modified
        self.etag = etag
    }
}

/// Bytes read in order, in pieces of any size. Not shared between tasks.
public protocol ByteStream: AnyObject {
    /// Fills the start of `buffer`; returns how many bytes were read, 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int
}

/// A file being written. Writes are synchronous and cheap (to memory or a local spool); the work that may wait
/// (an upload) happens beside them and in `finish`.
public protocol FileDestination: AnyObject {
    /// Bytes handed over so far.
    var bytesWritten: Int { get }
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Completes what can be completed before the commit (flush, sync, upload the last part) and returns the
    /// commit that makes the file visible, and whose `abort` leaves nothing behind.
    func finish() async throws -> any PendingCommit
    /// Removes everything written (after a failure).
    func discard() async
}

/// A connector whose connections hold files (`s3`, `sftp`; `http` for `https://` paths), so file nodes can read
/// and write them with `connection:`.
public protocol FileStoring: Connector {
    /// URL schemes read without naming a connection (`https` for a plain `https://…` path); empty for most.
    static var urlSchemes: [String] { get }
    /// The store of a connection; nil `connection` for a plain URL of one of `urlSchemes`.
    static func fileStore(_ connection: Connection?, outbound: OutboundPolicy) throws -> any FileStore
}

extension FileStoring {
    public static var urlSchemes: [String] { [] }
}

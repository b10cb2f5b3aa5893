import Foundation
import NIOCore
import NodeKit
import Synchronization

/// The files of an `sftp` connection: paths relative to the login's home folder (or absolute), globs expanded by
/// listing folders, reads and writes pipelined (`inFlight` requests of 255 KB and 64 KB), outputs written under a hidden
/// temporary name beside the target and renamed onto it at commit (atomically, with `posix-rename@openssh.com`).
/// One SSH session per store, opened on first use and shared by its reads and writes.
final class SFTPFileStore: FileStore, Sendable {
    let login: SFTPLogin
    let connectionName: String
    let inFlight: Int
    private let session = Mutex<Task<SFTPClient, any Error>?>(nil)

    static let chunk: UInt32 = 64 << 10
    /// Reads ask for as much as OpenSSH's sftp-server answers at once (256 KB less its message overhead): a quarter of
    /// the requests of 64 KB reads, 3.5–3.75 s instead of 4.5 s for the benchmark's 725 MB.
    static let readChunk: UInt32 = 261_120

    init(login: SFTPLogin, connectionName: String, inFlight: Int) {
        self.login = login
        self.connectionName = connectionName
        self.inFlight = inFlight
    }

    var label: String { "sftp connection '\(connectionName)'" }

    /// The session, connecting on first use (a failed connection is tried again next time).
    func client() async throws -> SFTPClient {
        let login = login
        let task = session.withLock { current in
            if let current { return current }
            let started = Task { try await SFTPClient.connect(login) }
            current = started
            return started
        }
        do { return try await task.value } catch {
            session.withLock { $0 = nil }
            throw error
        }
    }

    func list(_ pattern: String) async throws -> [StoredFile] {
        let client = try await client()
        let glob = GlobPattern(pattern)
        guard glob.hasWildcards else {
            guard let attributes = try await client.stat(pattern), attributes.isRegularFile else { return [] }
            return [StoredFile(path: pattern, size: attributes.size.map(Int64.init), modified: attributes.modified.map { Int64($0) * 1000 })]
        }
        let depth = glob.isRecursive ? Int.max : pattern.split(separator: "/", omittingEmptySubsequences: false).count
        var found: [StoredFile] = []
        var folders = [glob.literalPrefix]
        while let folder = folders.popLast() {
            let level = folder.split(separator: "/").count
            let entries: [(name: String, attributes: SFTPMessage.Attributes)]
            do { entries = try await client.list(folder.isEmpty ? "." : folder) } catch SFTPError.status(let code, _, _) where code == SFTPMessage.noSuchFile {
                continue
            }
            for entry in entries where !entry.name.hasPrefix(".") {
                let path = folder + entry.name
                if entry.attributes.isDirectory {
                    if level + 1 < depth { folders.append(path + "/") }
                } else if glob.matches(path) {
                    found.append(StoredFile(path: path, size: entry.attributes.size.map(Int64.init), modified: entry.attributes.modified.map { Int64($0) * 1000 }))
                }
            }
            guard found.count <= 100_000 else { throw NodeError(code: "too_many_files", message: "'\(pattern)' matches more than 100,000 files in \(label)") }
        }
        return found.sorted { $0.path < $1.path }
    }

    func open(_ file: StoredFile) async throws -> any ByteStream {
        let client = try await client()
        let handle = try await client.open(file.path, flags: .read)
        return SFTPByteStream(client: client, handle: handle, size: file.size.map(UInt64.init), inFlight: inFlight)
    }

    func create(_ path: String, runID: String) async throws -> any FileDestination {
        let client = try await client()
        let folder = PathText.parent(path)
        if !folder.isEmpty { try await client.makeDirectories(folder) }
        let name = PathText.lastComponent(path)
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).sluice-\(runID).tmp"
        let handle = try await client.open(temporary, flags: [.write, .create, .truncate])
        return try SFTPUpload(client: client, handle: handle, temporary: temporary, target: path, inFlight: inFlight)
    }

    func move(_ path: String, to target: String) async throws {
        let client = try await client()
        let folder = PathText.parent(target)
        if !folder.isEmpty { try await client.makeDirectories(folder) }
        try await client.rename(path, to: target)
    }
}

/// Reads a remote file with `inFlight` READ requests outstanding, handed out in order.
final class SFTPByteStream: ByteStream {
    private let client: SFTPClient
    private let handle: ByteBuffer
    private let size: UInt64?
    private let inFlight: Int
    private var nextOffset: UInt64 = 0
    private var pending: [(offset: UInt64, length: UInt32, task: Task<ByteBuffer, any Error>)] = []
    private var current = ByteBuffer()
    private var ended = false

    init(client: SFTPClient, handle: ByteBuffer, size: UInt64?, inFlight: Int) {
        self.client = client
        self.handle = handle
        self.size = size
        self.inFlight = inFlight
    }

    deinit {
        for request in pending { request.task.cancel() }
        let client = client, handle = handle
        Task { try? await client.close(handle) }
    }

    private func request(_ offset: UInt64, _ length: UInt32) -> (UInt64, UInt32, Task<ByteBuffer, any Error>) {
        let client = client, handle = handle
        return (offset, length, Task { try await client.read(handle, offset: offset, length: length) })
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        while current.readableBytes == 0 {
            if ended { return 0 }
            // Keep the window full; with an unknown size, read on until the server says end of file.
            while pending.count < inFlight, size.map({ nextOffset < $0 }) ?? (pending.count < 2) {
                let length = size.map { UInt32(min(UInt64(SFTPFileStore.readChunk), $0 - nextOffset)) } ?? SFTPFileStore.readChunk
                pending.append(request(nextOffset, length))
                nextOffset += UInt64(length)
            }
            guard !pending.isEmpty else {
                ended = true
                return 0
            }
            let first = pending.removeFirst()
            let data = try await first.task.value
            if data.readableBytes == 0 {
                // End of file (a file that shrank while read, or an unknown size reached its end).
                for request in pending { request.task.cancel() }
                pending = []
                ended = true
                return 0
            }
            if UInt32(data.readableBytes) < first.length {
                // A short read: ask for the rest before anything later.
                pending.insert(request(first.offset + UInt64(data.readableBytes), first.length - UInt32(data.readableBytes)), at: 0)
            }
            current = data
        }
        let n = min(buffer.count, current.readableBytes)
        current.withUnsafeReadableBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        current.moveReaderIndex(forwardBy: n)
        return n
    }
}

/// A file being written over SFTP: bytes spooled locally and written to the temporary remote file beside the
/// writing (`inFlight` WRITE requests of 64 KB outstanding); `finish` waits for the last and closes the file; the
/// commit renames it onto the target, an abort removes it.
final class SFTPUpload: FileDestination {
    private let client: SFTPClient
    private let handle: ByteBuffer
    private let temporary: String
    private let target: String
    private let spool: SpoolFile
    private(set) var bytesWritten = 0
    private var queued = 0
    private let continuation: AsyncStream<(offset: Int, length: Int)>.Continuation
    private let uploader: Task<Void, any Error>

    init(client: SFTPClient, handle: ByteBuffer, temporary: String, target: String, inFlight: Int) throws {
        self.client = client
        self.handle = handle
        self.temporary = temporary
        self.target = target
        let spool = try SpoolFile(label: "'\(target)'")
        self.spool = spool
        let (stream, continuation) = AsyncStream.makeStream(of: (offset: Int, length: Int).self)
        self.continuation = continuation
        uploader = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for await piece in stream {
                    if running >= inFlight {
                        try await group.next()
                        running -= 1
                    }
                    group.addTask {
                        var data = ByteBufferAllocator().buffer(capacity: piece.length)
                        _ = try data.writeWithUnsafeMutableBytes(minimumWritableBytes: piece.length) { target in
                            try spool.read(offset: piece.offset, into: UnsafeMutableRawBufferPointer(rebasing: target[0..<piece.length]))
                            return piece.length
                        }
                        try await client.write(handle, offset: UInt64(piece.offset), data: data)
                    }
                    running += 1
                }
                try await group.waitForAll()
            }
        }
    }

    deinit {
        continuation.finish()
        uploader.cancel()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try spool.append(bytes)
        bytesWritten += bytes.count
        let chunk = Int(SFTPFileStore.chunk)
        while bytesWritten - queued >= chunk {
            continuation.yield((queued, chunk))
            queued += chunk
        }
    }

    func finish() async throws -> any PendingCommit {
        if bytesWritten > queued {
            continuation.yield((queued, bytesWritten - queued))
            queued = bytesWritten
        }
        continuation.finish()
        do {
            try await uploader.value
            try await client.close(handle)
        } catch {
            await discard()
            throw NodeError(code: "file_unwritable", message: "writing '\(target)': \(error)", isRetryable: true)
        }
        return SFTPRenameAtCommit(client: client, temporary: temporary, target: target)
    }

    func discard() async {
        continuation.finish()
        uploader.cancel()
        let client = client, handle = handle, temporary = temporary
        // In a task of its own: the failing run's cancellation must not stop the clean-up.
        await Task {
            try? await client.close(handle)
            try? await client.remove(temporary)
        }.value
    }
}

/// Renames the finished temporary file onto its target at commit; removes it on abort.
struct SFTPRenameAtCommit: PendingCommit {
    let client: SFTPClient
    let temporary: String
    let target: String

    func commit() async throws {
        do { try await client.rename(temporary, to: target) } catch {
            throw NodeError(code: "file_unwritable", message: "moving the output into place at '\(target)': \(error)")
        }
    }

    func abort() async {
        let client = client, temporary = temporary
        await Task { try? await client.remove(temporary) }.value
    }
}

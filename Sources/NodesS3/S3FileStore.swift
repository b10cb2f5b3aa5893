import AsyncHTTPClient
import Foundation
import NIOCore
import NodeKit

/// The files of an `s3` connection's bucket: globs expanded over a listing of their literal prefix, reads as
/// parallel ranged GETs, writes as multipart uploads completed at the run's commit.
struct S3FileStore: FileStore {
    let client: S3Client
    let connectionName: String
    /// Bytes per ranged GET, and ranged GETs in flight per file.
    let readChunk: Int
    let readAhead: Int
    /// The first part size of an upload (parts grow for very large files, see `S3Upload`), and parts in flight.
    let partSize: Int
    let uploadsInFlight: Int

    var label: String { "s3 connection '\(connectionName)'" }

    /// The most objects one glob may match (a node reads them all; a runaway pattern should fail, not list a bucket).
    static let maximumFiles = 100_000

    func list(_ pattern: String) async throws -> [StoredFile] {
        let key = pattern.hasPrefix("/") ? String(pattern.dropFirst()) : pattern
        let glob = GlobPattern(key)
        var found: [StoredFile] = []
        if glob.hasWildcards {
            try await client.list(prefix: glob.literalPrefix) { file in
                if glob.matches(file.path) { found.append(file) }
                guard found.count <= Self.maximumFiles else {
                    throw NodeError(code: "too_many_files", message: "'\(pattern)' matches more than \(Self.maximumFiles) objects in \(label); narrow the glob")
                }
            }
        } else {
            try await client.list(prefix: key) { file in
                if file.path == key { found.append(file) }
            }
        }
        return found.sorted { $0.path < $1.path }
    }

    func open(_ file: StoredFile) async throws -> any ByteStream {
        S3ByteStream(client: client, file: file, chunk: readChunk, readAhead: readAhead)
    }

    func create(_ path: String, runID: String) async throws -> any FileDestination {
        let key = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !key.isEmpty, !key.hasSuffix("/") else {
            throw NodeError(code: "invalid_value", message: "'\(path)' is not an object key (it must name a file, not a folder)")
        }
        return try S3Upload(client: client, key: key, runID: runID, partSize: partSize, inFlight: uploadsInFlight)
    }

    /// S3 has no rename: a copy, then the original deleted (the copy is whole before the original goes).
    func move(_ path: String, to target: String) async throws {
        try await client.copy(path, to: target)
        try await client.delete(path)
    }
}

/// Reads an object as ranged GETs of `chunk` bytes, `readAhead` of them started at once and read in order. Each
/// range's body streams: a range not yet being read holds only what the connection buffers before it pauses, so
/// memory stays small however large the ranges (large ranges mean fewer requests). An object that changes while it
/// is read fails the read (each GET carries `If-Match` with the listed ETag).
final class S3ByteStream: ByteStream {
    private let client: S3Client
    private let file: StoredFile
    private let chunk: Int64
    private let readAhead: Int
    private var nextOffset: Int64 = 0
    private var pending: [Task<HTTPClientResponse.Body, any Error>] = []
    private var body: HTTPClientResponse.Body.AsyncIterator?
    private var current = ByteBuffer()
    private var ended = false

    init(client: S3Client, file: StoredFile, chunk: Int, readAhead: Int) {
        self.client = client
        self.file = file
        self.chunk = Int64(chunk)
        self.readAhead = max(1, readAhead)
    }

    deinit { for task in pending { task.cancel() } }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        while current.readableBytes == 0 {
            if ended { return 0 }
            if body != nil {
                if let next = try await body!.next() {
                    current = next
                    continue
                }
                body = nil
            }
            guard let size = file.size else {
                // Size unknown: one whole GET (a listing always gives the size; this is the fallback).
                current = try await client.get(file.path, range: nil, etag: file.etag)
                ended = true
                continue
            }
            while pending.count < readAhead, nextOffset < size {
                let range = nextOffset...min(size, nextOffset + chunk) - 1
                nextOffset = range.upperBound + 1
                let client = client, file = file
                pending.append(Task { try await client.stream(file.path, range: range, etag: file.etag) })
            }
            guard !pending.isEmpty else {
                ended = true
                return 0
            }
            body = try await pending.removeFirst().value.makeAsyncIterator()
        }
        let n = min(buffer.count, current.readableBytes)
        current.withUnsafeReadableBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: n)
        }
        current.moveReaderIndex(forwardBy: n)
        return n
    }
}

import Foundation
import NIOCore
import NodeKit

extension SpoolFile {
    /// `length` bytes from `offset`, in a buffer to send.
    func read(offset: Int, length: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            try read(offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: target[0..<length]))
            return length
        }
        return buffer
    }
}

/// An object being written to S3. Writes go to a local spool file (synchronous and cheap for the writer); as
/// soon as a part's worth is spooled, it is uploaded as a part of a multipart upload, `inFlight` parts at a time,
/// beside the writing. `finish` uploads the last part; the upload is completed only when the run commits and
/// aborted when it fails, so a failed run leaves no object and no parts. Outputs smaller than one part are put
/// whole at commit. Parts double in size every 1,000 parts, so S3's limit of 10,000 parts is never reached.
final class S3Upload: FileDestination {
    struct Part: Sendable {
        let number: Int
        let offset: Int
        let length: Int
    }

    private let client: S3Client
    private let key: String
    private let partSize: Int
    private let inFlight: Int
    private let spool: SpoolFile
    private(set) var bytesWritten = 0
    /// Bytes handed to parts so far.
    private var queued = 0
    private var parts = 0
    private var continuation: AsyncStream<Part>.Continuation?
    /// Uploads the parts; gives the upload id and the parts' ETags in order.
    private var uploader: Task<(String, [String]), any Error>?

    init(client: S3Client, key: String, runID: String, partSize: Int, inFlight: Int) throws {
        self.client = client
        self.key = key
        self.partSize = partSize
        self.inFlight = max(1, inFlight)
        spool = try SpoolFile(label: "'\(key)'")
    }

    deinit {
        continuation?.finish()
        uploader?.cancel()
    }

    private var nextPartSize: Int { partSize << min(parts / 1000, 12) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try spool.append(bytes)
        bytesWritten += bytes.count
        while bytesWritten - queued >= nextPartSize { enqueue(nextPartSize) }
    }

    private func enqueue(_ length: Int) {
        if uploader == nil { startUploader() }
        parts += 1
        continuation?.yield(Part(number: parts, offset: queued, length: length))
        queued += length
    }

    private func startUploader() {
        let (stream, continuation) = AsyncStream.makeStream(of: Part.self)
        self.continuation = continuation
        let client = client, key = key, spool = spool, inFlight = inFlight
        uploader = Task {
            let id = try await client.createMultipartUpload(key)
            do {
                var etags: [Int: String] = [:]
                try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    var running = 0
                    for await part in stream {
                        if running >= inFlight, let (number, etag) = try await group.next() {
                            etags[number] = etag
                            running -= 1
                        }
                        group.addTask {
                            (part.number, try await client.uploadPart(key, uploadID: id, number: part.number, body: .spool(spool, offset: part.offset, length: part.length)))
                        }
                        running += 1
                    }
                    for try await (number, etag) in group { etags[number] = etag }
                }
                return (id, (1...etags.count).map { etags[$0]! })
            } catch {
                await client.abortRegardless(key, uploadID: id)
                throw error
            }
        }
    }

    func finish() async throws -> any PendingCommit {
        guard uploader != nil else {
            return S3PutAtCommit(client: client, key: key, spool: spool, length: bytesWritten)
        }
        if bytesWritten > queued { enqueue(bytesWritten - queued) }
        continuation?.finish()
        let (id, etags) = try await uploader!.value
        return S3MultipartCommit(client: client, key: key, uploadID: id, etags: etags)
    }

    func discard() async {
        continuation?.finish()
        guard let uploader else { return }
        uploader.cancel()
        // A finished uploader's upload is still open: abort it (a failed one aborted its own).
        if let (id, _) = try? await uploader.value { await client.abortRegardless(key, uploadID: id) }
    }
}

extension S3Client {
    /// Aborts an upload even when the caller's task was cancelled (a failing run cancels its nodes): the abort runs
    /// in a task of its own, which does not inherit the cancellation. Failures are ignored: the upload is then left
    /// for the bucket's lifecycle rule to remove.
    func abortRegardless(_ key: String, uploadID: String) async {
        let client = self
        await Task { try? await client.abortMultipartUpload(key, uploadID: uploadID) }.value
    }
}

/// Completes a multipart upload at commit (the object appears whole), aborts it otherwise (its parts are deleted).
struct S3MultipartCommit: PendingCommit {
    let client: S3Client
    let key: String
    let uploadID: String
    let etags: [String]

    func commit() async throws {
        try await client.completeMultipartUpload(key, uploadID: uploadID, etags: etags)
    }

    func abort() async { await client.abortRegardless(key, uploadID: uploadID) }
}

/// Puts a small output (under one part) whole at commit; nothing was sent before.
struct S3PutAtCommit: PendingCommit {
    let client: S3Client
    let key: String
    let spool: SpoolFile
    let length: Int

    func commit() async throws {
        try await client.put(key, body: .spool(spool, offset: 0, length: length))
    }

    func abort() async {}
}

import Foundation
import NodeKit

/// Reads a file in large chunks into a growable byte buffer, keeping the unconsumed tail.
///
/// The bytes come from the file's store (`LocalByteStream` reads with POSIX `read`: no copy beyond this
/// buffer), inflated on the way when the file is gzip. The buffer grows only while one record does not fit, and
/// never past `maximumRecordBytes`: a file with no line end (`/dev/zero`, a binary file, an unclosed quote)
/// fails the node with `record_too_large` instead of exhausting memory.
final class FileInput {
    /// The longest record a file node reads (64 MiB).
    static let maximumRecordBytes = 64 << 20

    /// How the file is named in messages.
    let path: String
    private let stream: any ByteStream
    /// The bytes read and not yet consumed are `buffer[0..<filled]`. Owned memory (not an array), so a stream
    /// can fill it across suspension points.
    private(set) var buffer: UnsafeBufferPointer<UInt8>
    private var storage: UnsafeMutableBufferPointer<UInt8>
    /// Valid bytes in `buffer`.
    private(set) var filled = 0
    private(set) var atEOF = false
    /// Bytes read (after decompression).
    private(set) var totalRead = 0

    init(stream: any ByteStream, path: String, chunkSize: Int = 4 << 20) {
        self.path = path
        self.stream = stream
        storage = .allocate(capacity: chunkSize)
        buffer = UnsafeBufferPointer(storage)
    }

    deinit { storage.deallocate() }

    /// Opens a file of a location's store, inflating `.gz` files.
    static func open(_ file: StoredFile, in location: FileLocation, chunkSize: Int = 4 << 20) async throws -> FileInput {
        let name = location.isLocal ? file.path : "'\(file.path)' in \(location.store.label)"
        var stream = try await location.store.open(file)
        if GzipByteStream.isGzipPath(file.path) { stream = try GzipByteStream(stream, label: name) }
        return FileInput(stream: stream, path: name, chunkSize: chunkSize)
    }

    /// The sizes of `files` added up (unknown sizes count 0).
    static func totalSize(of files: [StoredFile]) -> Int {
        files.reduce(0) { $0 + Int($1.size ?? 0) }
    }

    /// Drops bytes before `consumed`, then reads more; grows the buffer when a single record fills it.
    /// Returns the number of bytes read (0 at end of file).
    @discardableResult
    func refill(consumed: Int) async throws -> Int {
        if consumed > 0 {
            let remaining = filled - consumed
            if remaining > 0 { memmove(storage.baseAddress!, storage.baseAddress! + consumed, remaining) }
            filled = remaining
        }
        if filled == buffer.count {
            guard buffer.count < Self.maximumRecordBytes else {
                throw NodeError(code: "record_too_large",
                                message: "'\(path)': the record at byte \(totalRead - filled) is longer than \(Self.maximumRecordBytes >> 20) MiB, the most a record may have (a file without line ends, or a quote that is never closed?)",
                                isRetryable: false)
            }
            let grown = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count + min(buffer.count, Self.maximumRecordBytes - buffer.count))
            memcpy(grown.baseAddress!, storage.baseAddress!, filled)
            storage.deallocate()
            storage = grown
            buffer = UnsafeBufferPointer(storage)
        }
        // Streams may return less than asked (a network read): keep reading until the chunk is full or the file ends,
        // so chunk sizes (and the parallel decoding) do not depend on the store.
        var count = 0
        while filled < buffer.count {
            let n = try await stream.read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: storage[filled...])))
            if n == 0 {
                atEOF = true
                break
            }
            filled += n
            count += n
        }
        totalRead += count
        return count
    }
}

extension UnsafeBufferPointer {
    /// Lets code written for arrays (`buffer.withUnsafeBufferPointer { … }`) read a `FileInput`'s buffer.
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R { try body(self) }
}

import Foundation
import NodeKit

/// Reads a file in large chunks into a growable byte buffer, keeping the unconsumed tail.
///
/// Uses POSIX `read` directly: no Foundation `Data` per chunk on the hot path. The buffer grows only while
/// one record does not fit, and never past `maximumRecordBytes`: a file with no line end (`/dev/zero`, a
/// binary file, an unclosed quote) fails the node with `record_too_large` instead of exhausting memory.
final class FileInput {
    /// The longest record a file node reads (64 MiB).
    static let maximumRecordBytes = 64 << 20

    let path: String
    private let fd: Int32
    private(set) var buffer: [UInt8]
    /// Valid bytes in `buffer`.
    private(set) var filled = 0
    private(set) var atEOF = false
    private(set) var totalRead = 0

    init(path: String, chunkSize: Int = 4 << 20) throws {
        self.path = path
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileInputError(path: path, reason: String(cString: strerror(errno))) }
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit { close(fd) }

    /// The sizes of `paths` added up (files that cannot be read count 0: reading them reports the error).
    static func totalSize(of paths: [String]) -> Int {
        paths.reduce(0) { total, path in
            var info = stat()
            return total + (stat(path, &info) == 0 ? Int(info.st_size) : 0)
        }
    }

    /// Drops bytes before `consumed`, then reads more; grows the buffer when a single record fills it.
    /// Returns the number of bytes read (0 at end of file).
    @discardableResult
    func refill(consumed: Int) throws -> Int {
        if consumed > 0 {
            let remaining = filled - consumed
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + consumed, remaining)
                }
            }
            filled = remaining
        }
        if filled == buffer.count {
            guard buffer.count < Self.maximumRecordBytes else {
                throw NodeError(code: "record_too_large",
                                message: "'\(path)': the record at byte \(totalRead - filled) is longer than \(Self.maximumRecordBytes >> 20) MiB, the most a record may have (a file without line ends, or a quote that is never closed?)",
                                isRetryable: false)
            }
            buffer += [UInt8](repeating: 0, count: min(buffer.count, Self.maximumRecordBytes - buffer.count))
        }
        let capacity = buffer.count - filled
        let count = buffer.withUnsafeMutableBufferPointer { b in
            read(fd, b.baseAddress! + filled, capacity)
        }
        guard count >= 0 else { throw FileInputError(path: path, reason: String(cString: strerror(errno))) }
        if count == 0 { atEOF = true }
        filled += count
        totalRead += count
        return count
    }
}

struct FileInputError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot read '\(path)': \(reason)" }
}

/// Expands a path or glob (`data/*.csv`) into sorted file paths.
enum FileMatcher {
    static func expand(_ pattern: String) -> [String] {
        guard pattern.contains(where: { "*?[".contains($0) }) else {
            return FileManager.default.fileExists(atPath: pattern) ? [pattern] : []
        }
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { i in result.gl_pathv[i].map { String(cString: $0) } }.sorted()
    }
}

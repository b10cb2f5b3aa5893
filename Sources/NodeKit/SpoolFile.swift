import Foundation

/// A local file that holds an output's bytes until a remote store takes them: created unlinked in `$TMPDIR`
/// (nothing is left on disk if the process dies), appended by the writer, read back by position from any task,
/// closed when the last holder lets go. Remote destinations (S3 multipart, SFTP) upload from it beside the
/// writing, so a writer never waits for the network and memory stays small.
public final class SpoolFile: Sendable {
    public let fd: Int32

    public init(label: String) throws {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/sluice-upload-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw NodeError(code: "file_unwritable", message: "cannot create a spool file for \(label) in \(directory): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.fd = fd
    }

    deinit { close(fd) }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { throw NodeError(code: "file_unwritable", message: "cannot write the upload's spool file: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Fills `target` with the bytes from `offset` (they must have been written).
    public func read(offset: Int, into target: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < target.count {
            let n = pread(fd, target.baseAddress! + done, target.count - done, off_t(offset + done))
            guard n > 0 else {
                throw NodeError(code: "file_unreadable", message: "cannot read the upload's spool file: \(n == 0 ? "it is shorter than written" : String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}

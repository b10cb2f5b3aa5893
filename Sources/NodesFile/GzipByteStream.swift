import CZlib
import NodeKit

/// Inflates a gzip stream (RFC 1952, members concatenated as `gzip` and `cat` make them) as it is read.
/// A `.gz` file whose bytes are not gzip (a web server that already decoded it) passes through unchanged.
///
/// Memory stays bounded whatever the ratio: each `read` inflates at most the caller's buffer. A corrupt or
/// truncated stream fails the node with `invalid_gzip` naming the file.
final class GzipByteStream: ByteStream {
    private let source: any ByteStream
    private let label: String
    private var zstream = z_stream()
    private let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256 << 10)
    private var inputStart = 0
    private var inputEnd = 0
    private var sourceEnded = false
    private var finished = false
    /// nil until the first bytes are seen; false when they are not gzip (no gzip magic number).
    private var isGzip: Bool?

    init(_ source: any ByteStream, label: String) throws {
        self.source = source
        self.label = label
        // 15 + 32: a window of 32 KiB and automatic gzip/zlib header detection.
        let status = inflateInit2_(&zstream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw NodeError(code: "invalid_gzip", message: "\(label): cannot start decompressing (zlib \(status))") }
    }

    deinit {
        inflateEnd(&zstream)
        input.deallocate()
    }

    /// Whether a path names a gzip file by its extension.
    static func isGzipPath(_ path: String) -> Bool {
        let base = path.split(separator: "?").first.map(String.init) ?? path
        return base.lowercased().hasSuffix(".gz")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        guard buffer.count > 0 else { return 0 }
        if isGzip == nil {
            while inputEnd < 2, !sourceEnded {
                let n = try await source.read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: input[inputEnd...])))
                if n == 0 { sourceEnded = true }
                inputEnd += n
            }
            isGzip = inputEnd >= 2 && input[0] == 0x1f && input[1] == 0x8b
        }
        if isGzip == false {
            if inputStart < inputEnd {
                let n = min(buffer.count, inputEnd - inputStart)
                buffer.baseAddress!.copyMemory(from: input.baseAddress! + inputStart, byteCount: n)
                inputStart += n
                return n
            }
            return sourceEnded ? 0 : try await source.read(into: buffer)
        }
        while !finished {
            if inputStart == inputEnd, !sourceEnded {
                let n = try await source.read(into: UnsafeMutableRawBufferPointer(input))
                inputStart = 0
                inputEnd = n
                if n == 0 { sourceEnded = true }
            }
            let (produced, status, consumed) = { () -> (Int, Int32, Int) in
                zstream.next_in = input.baseAddress! + inputStart
                zstream.avail_in = UInt32(inputEnd - inputStart)
                zstream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
                zstream.avail_out = UInt32(buffer.count)
                let status = inflate(&zstream, Z_NO_FLUSH)
                return (buffer.count - Int(zstream.avail_out), status, (inputEnd - inputStart) - Int(zstream.avail_in))
            }()
            inputStart += consumed
            switch status {
            case Z_STREAM_END:
                // Another member may follow (concatenated gzip files): start over on the rest of the input.
                if inputStart == inputEnd, !sourceEnded {
                    let n = try await source.read(into: UnsafeMutableRawBufferPointer(input))
                    inputStart = 0
                    inputEnd = n
                    if n == 0 { sourceEnded = true }
                }
                if inputStart < inputEnd {
                    inflateReset(&zstream)
                } else {
                    finished = true
                }
                if produced > 0 { return produced }
            case Z_OK, Z_BUF_ERROR:
                if produced > 0 { return produced }
                if sourceEnded, inputStart == inputEnd {
                    throw NodeError(code: "invalid_gzip", message: "\(label) ends in the middle of its gzip stream (a truncated download?)")
                }
            default:
                let reason = zstream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw NodeError(code: "invalid_gzip", message: "\(label) is not a valid gzip file: \(reason)")
            }
        }
        return 0
    }
}

import AsyncHTTPClient
import NIOCore
import NodeKit

/// Files on a web server, read-only: a plain `https://` URL, or a path under an `http` connection's base URL
/// (its authentication, headers, CA, rate limit and retries apply). No globs: a URL names one file. Bodies are
/// streamed (a `Content-Encoding: gzip` reply is inflated by the client, a `.gz` file by the file node).
struct HTTPFileStore: FileStore {
    let endpoint: HTTPEndpoint
    let connectionName: String?

    var label: String { connectionName.map { "http connection '\($0)'" } ?? "the web" }
    var isWritable: Bool { false }

    func list(_ pattern: String) async throws -> [StoredFile] {
        // `?` starts a URL's query, so only `*` is taken for a glob here.
        guard !pattern.contains("*") else {
            throw ConfigError(code: "invalid_value", message: "'\(pattern)': a URL names one file; globs are read from file stores (s3, the workspace)")
        }
        return [StoredFile(path: endpoint.url(path: pattern, query: []), size: nil)]
    }

    func open(_ file: StoredFile) async throws -> any ByteStream {
        let session = try HTTPSession(endpoint)
        return HTTPByteStream(body: try await session.open(file.path))
    }

    func create(_ path: String, runID: String) async throws -> any FileDestination {
        throw NodeError(code: "read_only_store", message: "\(label) is read-only")
    }
}

/// A response body read as a byte stream.
final class HTTPByteStream: ByteStream {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var current = ByteBuffer()

    init(body: HTTPClientResponse.Body) { iterator = body.makeAsyncIterator() }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        while current.readableBytes == 0 {
            guard let next = try await iterator.next() else { return 0 }
            current = next
        }
        let n = min(buffer.count, current.readableBytes)
        current.withUnsafeReadableBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        current.moveReaderIndex(forwardBy: n)
        return n
    }
}

extension HTTPConnector: FileStoring {
    public static var urlSchemes: [String] { ["https", "http"] }

    public static func fileStore(_ connection: Connection?, outbound: OutboundPolicy) throws -> any FileStore {
        guard let connection else {
            return HTTPFileStore(endpoint: HTTPEndpoint(name: "web", url: "", timeout: .seconds(60), outbound: outbound), connectionName: nil)
        }
        return HTTPFileStore(endpoint: try HTTPEndpoint(connection), connectionName: connection.name)
    }
}

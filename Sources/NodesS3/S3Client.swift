import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import NodeKit
import Synchronization

/// Where and how an `s3` connection reaches its bucket.
struct S3Endpoint: Sendable {
    /// `https` or `http`.
    let scheme: String
    let host: String
    let port: Int?
    let bucket: String
    /// `https://host/bucket/key` instead of `https://bucket.host/key`.
    let pathStyle: Bool
    let signer: SigV4Signer
    let caFile: String?
    let timeout: TimeAmount
    /// Retries of a request that failed on the network or with 500, 502, 503 or 504 (SlowDown).
    let retries: Int

    /// "host:port" as the `Host` header carries it.
    var hostHeader: String {
        let name = pathStyle ? host : "\(bucket).\(host)"
        guard let port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) else { return name }
        return "\(name):\(port)"
    }

    /// The object's path as sent and signed: each segment of the key percent-encoded once.
    func path(key: String) -> String {
        let encoded = SigV4Signer.encode(key, keepSlash: true)
        return pathStyle ? "/\(bucket)/\(encoded)" : "/\(encoded)"
    }

    /// The bucket's own path (listing, multipart listing).
    var bucketPath: String { pathStyle ? "/\(bucket)" : "/" }
}

/// What a request sends: bytes in memory (small XML bodies, tests), or a range of a spool file streamed in 256 KB
/// reads, so an upload of many large parts holds almost nothing in memory.
enum S3Body: Sendable {
    case bytes(ByteBuffer)
    case spool(SpoolFile, offset: Int, length: Int)

    var length: Int {
        switch self {
        case let .bytes(buffer): buffer.readableBytes
        case let .spool(_, _, length): length
        }
    }

    /// A fresh request body (each attempt of a retried request reads the range again).
    var requestBody: HTTPClientRequest.Body {
        switch self {
        case let .bytes(buffer): .bytes(buffer)
        case let .spool(file, offset, length): .stream(SpoolChunks(file: file, offset: offset, end: offset + length), length: .known(Int64(length)))
        }
    }
}

/// A spool file's range as a sequence of buffers read on demand.
struct SpoolChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let file: SpoolFile
    let offset: Int
    let end: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: SpoolFile
        var position: Int
        let end: Int

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let length = Swift.min(256 << 10, end - position)
            let buffer = try file.read(offset: position, length: length)
            position += length
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file, position: offset, end: end) }
}

/// An S3 request's outcome that was not a success: S3's error code and message, and the HTTP status.
struct S3Failure: Error, CustomStringConvertible {
    let status: Int
    let code: String
    let message: String
    let operation: String

    var description: String { "\(operation): \(code)\(message.isEmpty ? "" : ": \(message)") (HTTP \(status))" }

    var isRetryable: Bool { [500, 502, 503, 504].contains(status) || code == "SlowDown" || code == "RequestTimeout" }

    /// What a user reads: S3's words with a hint for the common causes.
    var nodeError: NodeError {
        let hint: String = switch code {
        case "NoSuchBucket": "; check the connection's bucket"
        case "InvalidAccessKeyId", "SignatureDoesNotMatch": "; check the connection's access key id and secret access key"
        case "AccessDenied": "; the key lacks permission for this action"
        case "NoSuchKey": ""
        default: ""
        }
        return NodeError(code: code == "NoSuchKey" ? "file_not_found" : "s3_error", message: description + hint, isRetryable: isRetryable)
    }
}

/// The S3 API calls Sluice uses, over async-http-client with SigV4 signing: list (ListObjectsV2, paged), ranged
/// GET, PUT, multipart upload (create, part, complete, abort, list). Retries network failures and 5xx replies.
struct S3Client: Sendable {
    let endpoint: S3Endpoint
    let client: HTTPClient

    init(_ endpoint: S3Endpoint) throws {
        self.endpoint = endpoint
        client = try S3HTTPClients.client(caFile: endpoint.caFile)
    }

    /// A reply: status, headers and (for calls that read it) the body.
    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: ByteBuffer
    }

    /// Sends one request, retrying transient failures; the body is collected (up to `limit`). Throws `S3Failure`
    /// for an error status.
    func send(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [], body: S3Body? = nil,
              payloadHash: String = SigV4Signer.emptyPayloadHash, operation: String, limit: Int = 16 << 20) async throws -> Reply {
        try await retrying(operation) {
            let response = try await respond(method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash, operation: operation)
            let collected: ByteBuffer
            do { collected = try await response.body.collect(upTo: limit) } catch is NIOTooManyBytesError {
                throw NodeError(code: "s3_error", message: "\(operation): the reply is larger than \(limit >> 20) MB")
            }
            return Reply(status: Int(response.status.code), headers: response.headers, body: collected)
        }
    }

    /// Runs `attempt`, again after network failures and retryable statuses (exponential backoff, `retries` times).
    private func retrying<T>(_ operation: String, _ attempt: () async throws -> T) async throws -> T {
        var tries = 0
        while true {
            try Task.checkCancellation()
            do {
                return try await attempt()
            } catch let failure as S3Failure where failure.isRetryable && tries < endpoint.retries {
                tries += 1
            } catch let failure as S3Failure {
                throw failure
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as NodeError {
                throw error
            } catch {
                guard tries < endpoint.retries else {
                    throw NodeError(code: "s3_unreachable", message: "\(operation) failed after \(tries + 1) attempts: \(error)", isRetryable: true)
                }
                tries += 1
            }
            try await Task.sleep(for: .milliseconds(200 << min(tries, 6)))
        }
    }

    /// One signed request up to its response head; an error status is read and thrown as `S3Failure`. The body of
    /// a success is left to the caller.
    private func respond(_ method: HTTPMethod, key: String?, query: [(String, String)], headers: [(String, String)], body: S3Body?,
                         payloadHash: String, operation: String) async throws -> HTTPClientResponse {
        let path = key.map(endpoint.path(key:)) ?? endpoint.bucketPath
        let host = endpoint.hostHeader
        var signed = headers.map { ($0.0.lowercased(), $0.1) }
        signed.append(("host", host))
        signed.append(("x-amz-content-sha256", payloadHash))
        let added = endpoint.signer.sign(method: method.rawValue, path: path, query: query, headers: signed, payloadHash: payloadHash, date: Date())
        let queryText = SigV4Signer.canonicalQuery(query)
        var request = HTTPClientRequest(url: "\(endpoint.scheme)://\(host)\(path)\(queryText.isEmpty ? "" : "?" + queryText)")
        request.method = method
        for (name, value) in signed + added { request.headers.replaceOrAdd(name: name, value: value) }
        if let body {
            request.body = body.requestBody
            request.headers.replaceOrAdd(name: "content-length", value: "\(body.length)")
        } else if method == .PUT || method == .POST {
            request.headers.replaceOrAdd(name: "content-length", value: "0")
        }
        let response = try await client.execute(request, timeout: endpoint.timeout)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let text = String(buffer: (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer())[...]
            throw S3Failure(status: status, code: S3XML.value("Code", in: text) ?? (status == 404 ? "NotFound" : "HTTP\(status)"),
                            message: S3XML.value("Message", in: text) ?? "", operation: operation)
        }
        return response
    }

    /// The bytes of an object's range (both ends included) as a stream the caller reads at its own pace (the
    /// connection holds back while the caller does not read), failing if the object changed since it was listed.
    func stream(_ key: String, range: ClosedRange<Int64>, etag: String?) async throws -> HTTPClientResponse.Body {
        var headers = [("range", "bytes=\(range.lowerBound)-\(range.upperBound)")]
        if let etag { headers.append(("if-match", etag)) }
        do {
            return try await retrying("reading '\(key)'") {
                try await respond(.GET, key: key, query: [], headers: headers, body: nil, payloadHash: SigV4Signer.emptyPayloadHash, operation: "reading '\(key)'").body
            }
        } catch let failure as S3Failure where failure.status == 412 {
            throw NodeError(code: "file_changed", message: "'\(key)' changed while it was read (its ETag is no longer \(etag ?? "")); run again to read the new version")
        }
    }

    /// Every object whose key starts with `prefix`, paging through ListObjectsV2 (1,000 keys a page).
    func list(prefix: String, each: (StoredFile) throws -> Void) async throws {
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let reply = try await send(.GET, key: nil, query: query, operation: "listing '\(prefix)' in bucket '\(endpoint.bucket)'")
            let xml = String(buffer: reply.body)[...]
            for item in S3XML.elements("Contents", in: xml) {
                guard let key = S3XML.value("Key", in: item) else { continue }
                try each(StoredFile(path: key, size: S3XML.value("Size", in: item).flatMap { Int64($0) },
                                    modified: S3XML.value("LastModified", in: item).flatMap(Self.parseTime), etag: S3XML.value("ETag", in: item)))
            }
            token = S3XML.value("IsTruncated", in: xml) == "true" ? S3XML.value("NextContinuationToken", in: xml) : nil
        } while token != nil
    }

    /// `bytes` of an object (both ends included), failing if the object changed since it was listed (`etag`).
    func get(_ key: String, range: ClosedRange<Int64>?, etag: String?) async throws -> ByteBuffer {
        var headers: [(String, String)] = []
        if let range { headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        if let etag { headers.append(("if-match", etag)) }
        do {
            return try await send(.GET, key: key, headers: headers, operation: "reading '\(key)'", limit: range.map { Int($0.count) + 1 } ?? (1 << 30)).body
        } catch let failure as S3Failure where failure.status == 412 {
            throw NodeError(code: "file_changed", message: "'\(key)' changed while it was read (its ETag is no longer \(etag ?? "")); run again to read the new version")
        }
    }

    func put(_ key: String, body: S3Body) async throws {
        _ = try await send(.PUT, key: key, body: body, payloadHash: SigV4Signer.unsignedPayload, operation: "writing '\(key)'")
    }

    /// Creates the bucket (tests and benchmarks make their own; users' buckets exist).
    func createBucket() async throws {
        _ = try await send(.PUT, key: nil, operation: "creating bucket '\(endpoint.bucket)'")
    }

    /// Copies an object within the bucket (objects up to 5 GB, S3's limit for one copy).
    func copy(_ key: String, to target: String) async throws {
        let source = "/\(endpoint.bucket)/\(SigV4Signer.encode(key, keepSlash: true))"
        let reply = try await send(.PUT, key: target, headers: [("x-amz-copy-source", source)], operation: "copying '\(key)' to '\(target)'")
        let text = String(buffer: reply.body)[...]
        if S3XML.elements("Error", in: text).count > 0, let code = S3XML.value("Code", in: text) {
            throw S3Failure(status: 200, code: code, message: S3XML.value("Message", in: text) ?? "", operation: "copying '\(key)'").nodeError
        }
    }

    func delete(_ key: String) async throws {
        _ = try await send(.DELETE, key: key, operation: "deleting '\(key)'")
    }

    func createMultipartUpload(_ key: String) async throws -> String {
        let reply = try await send(.POST, key: key, query: [("uploads", "")], operation: "starting the upload of '\(key)'")
        guard let id = S3XML.value("UploadId", in: String(buffer: reply.body)[...]) else {
            throw NodeError(code: "s3_error", message: "starting the upload of '\(key)': the reply has no UploadId")
        }
        return id
    }

    /// Uploads one part; returns its ETag.
    func uploadPart(_ key: String, uploadID: String, number: Int, body: S3Body) async throws -> String {
        let reply = try await send(.PUT, key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: body,
                                   payloadHash: SigV4Signer.unsignedPayload, operation: "uploading part \(number) of '\(key)'")
        guard let etag = reply.headers.first(name: "etag") else {
            throw NodeError(code: "s3_error", message: "uploading part \(number) of '\(key)': the reply has no ETag")
        }
        return etag
    }

    func completeMultipartUpload(_ key: String, uploadID: String, etags: [String]) async throws {
        var xml = "<CompleteMultipartUpload>"
        for (i, etag) in etags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>" }
        xml += "</CompleteMultipartUpload>"
        let reply = try await send(.POST, key: key, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")], body: .bytes(ByteBuffer(string: xml)),
                                   payloadHash: SigV4Signer.hex(SHA256Digest.of(xml)), operation: "completing the upload of '\(key)'")
        // S3 may answer 200 with an error in the body when completion fails late.
        let text = String(buffer: reply.body)[...]
        if let code = S3XML.value("Code", in: text), S3XML.elements("Error", in: text).count > 0 {
            throw S3Failure(status: 200, code: code, message: S3XML.value("Message", in: text) ?? "", operation: "completing the upload of '\(key)'").nodeError
        }
    }

    func abortMultipartUpload(_ key: String, uploadID: String) async throws {
        _ = try await send(.DELETE, key: key, query: [("uploadId", uploadID)], operation: "aborting the upload of '\(key)'")
    }

    /// Multipart uploads started and neither completed nor aborted, under `prefix` (keys).
    func multipartUploads(prefix: String) async throws -> [String] {
        let reply = try await send(.GET, key: nil, query: [("uploads", ""), ("prefix", prefix)], operation: "listing uploads in bucket '\(endpoint.bucket)'")
        let xml = String(buffer: reply.body)[...]
        return S3XML.elements("Upload", in: xml).compactMap { S3XML.value("Key", in: $0) }
    }

    /// `2026-01-31T12:00:00.123Z` as milliseconds since 1970.
    static func parseTime(_ text: String) -> Int64? {
        let digits = text.split(whereSeparator: { !$0.isNumber }).prefix(6).compactMap { Int32($0) }
        guard digits.count == 6 else { return nil }
        var parts = tm()
        parts.tm_year = digits[0] - 1900
        parts.tm_mon = digits[1] - 1
        parts.tm_mday = digits[2]
        parts.tm_hour = digits[3]
        parts.tm_min = digits[4]
        parts.tm_sec = digits[5]
        let fraction = text.split(separator: ".").dropFirst().first.map { String($0.prefix { $0.isNumber }.prefix(3)) } ?? ""
        let millis = Int64(fraction.padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0
        return Int64(timegm(&parts)) * 1000 + millis
    }
}

extension SHA256Digest {
    /// The SHA-256 of a text's UTF-8 bytes.
    static func of(_ text: String) -> SHA256Digest { SHA256.hash(data: Data(text.utf8)) }
}

/// One HTTP client per trusted CA file (nil = the system's roots), living as long as the process. Responses are
/// never decompressed (an object stored gzip-encoded is read as stored) and redirects are not followed.
enum S3HTTPClients {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    static func client(caFile: String?) throws -> HTTPClient {
        clients.withLock { cache in
            if let existing = cache[caFile ?? ""] { return existing }
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .disallow
            configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
            configuration.decompression = .disabled
            if let caFile {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .file(caFile)
                configuration.tlsConfiguration = tls
            }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            cache[caFile ?? ""] = client
            return client
        }
    }
}

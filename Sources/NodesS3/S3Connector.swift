import Foundation
import NIOCore
public import NodeKit

/// The `s3` connector: a bucket of any S3-compatible store (AWS, MinIO, Ceph, moto), reached over HTTPS (or HTTP
/// on a private network) with SigV4-signed requests. File nodes read and write it with `connection:`; the
/// connection test lists one key.
public enum S3Connector: FileStoring {
    static let endpoint = Field<String>("endpoint", summary: "The store's URL, without the bucket.", example: "https://s3.eu-central-1.amazonaws.com")
    static let region = Field<String>("region", summary: "The region requests are signed for.", default: "us-east-1")
    static let bucket = Field<String>("bucket", summary: "The bucket; file paths are keys in it.", example: "landing")
    static let pathStyle = Field<Bool>("pathStyle", summary: "Address the bucket in the path (https://host/bucket/key, MinIO and most self-hosted stores) instead of the host name (https://bucket.host/key, AWS).", default: false)
    static let accessKeyId = Field<String>("accessKeyId", summary: "The access key id.", example: "AKIA…")
    static let secretAccessKey = Field<String>("secretAccessKey", summary: "The secret access key (a secret).")
    static let sessionToken = Field<String?>("sessionToken", summary: "A session token for temporary credentials (a secret).")
    static let caFile = Field<String?>("caFile", summary: "A PEM file of certificate authorities to trust instead of the system's (a private CA).")
    static let timeout = Field<Duration>("timeout", summary: "Time allowed for one request (a part upload or ranged read included).", default: .seconds(120))
    static let retries = Field<Int>("retries", summary: "Retries of a request that failed on the network or with 500, 502, 503 or 504 (exponential backoff).", default: 4)
    static let partSize = Field<ByteCount>("partSize", summary: "Size of an upload's parts (at least 5MB; parts double every 1,000 parts); ranged reads take four parts at a time.", default: ByteCount(8 << 20))
    static let concurrency = Field<Int>("concurrency", summary: "Parts uploaded, and ranged reads started, at once per file.", default: 4)

    public static let spec = ConnectionSpec(
        type: "s3", summary: "An S3-compatible bucket (AWS S3, MinIO, Ceph): files read and written by file nodes.",
        fields: [endpoint.spec, region.spec, bucket.spec, pathStyle.spec, accessKeyId.spec, secretAccessKey.spec, sessionToken.spec, caFile.spec,
                 timeout.spec, retries.spec, partSize.spec, concurrency.spec],
        secretFields: ["secretAccessKey", "sessionToken"])

    public static func check(_ connection: Connection) async throws -> ConnectionCheckResult {
        let client = try S3Client(try endpoint(connection))
        var count = 0
        let started = ContinuousClock.now
        let reply = try await client.send(.GET, key: nil, query: [("list-type", "2"), ("max-keys", "1")], operation: "listing bucket '\(client.endpoint.bucket)'")
        count = S3XML.elements("Contents", in: String(buffer: reply.body)[...]).count
        let elapsed = ContinuousClock.now - started
        let millis = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return ConnectionCheckResult(message: "bucket '\(client.endpoint.bucket)' listed in \(millis) ms (\(count == 0 ? "empty" : "has objects"))")
    }

    public static func fileStore(_ connection: Connection?, outbound: OutboundPolicy) throws -> any FileStore {
        guard let connection else { throw ConfigError(code: "missing_field", message: "an s3 store needs a connection") }
        let fields = connection.fields
        let size = try fields[Self.partSize].bytes
        guard size >= 5 << 20, size <= 1 << 30 else {
            throw ConfigError(code: "invalid_value", message: "partSize must be 5MB to 1GB (S3's limits for parts)", node: "connection '\(connection.name)'", field: "partSize")
        }
        let concurrency = try fields[Self.concurrency]
        guard (1...64).contains(concurrency) else {
            throw ConfigError(code: "invalid_value", message: "concurrency must be 1 to 64", node: "connection '\(connection.name)'", field: "concurrency")
        }
        // Reads stream, so their ranges can be large at little memory cost: fewer requests, less per-request overhead.
        return S3FileStore(client: try S3Client(try endpoint(connection)), connectionName: connection.name, readChunk: 4 * size, readAhead: concurrency,
                           partSize: size, uploadsInFlight: concurrency)
    }

    /// The connection's settings checked: a URL whose host the outbound policy allows, a valid bucket name, credentials.
    static func endpoint(_ connection: Connection) throws -> S3Endpoint {
        let fields = connection.fields
        let node = "connection '\(connection.name)'"
        func fail(_ field: String, _ message: String) -> ConfigError { ConfigError(code: "invalid_value", message: message, node: node, field: field) }
        let text = try fields[Self.endpoint]
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["https", "http"].contains(scheme),
              let host = url.host, !host.isEmpty, url.path.isEmpty || url.path == "/", url.query == nil else {
            throw fail("endpoint", "'\(text)' is not an endpoint URL such as https://s3.eu-central-1.amazonaws.com (scheme and host, no path)")
        }
        do { try connection.outbound.check(url: text) } catch { throw error.at(node: node, field: "endpoint") }
        let bucket = try fields[Self.bucket]
        let pathStyle = try fields[Self.pathStyle]
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }), bucket.first?.isLetter ?? false || bucket.first?.isNumber ?? false else {
            throw fail("bucket", "'\(bucket)' is not a bucket name (3 to 63 lowercase letters, digits, '-' and '.')")
        }
        if !pathStyle {
            // Requests go to bucket.host: that name must pass the outbound policy too (it may resolve elsewhere).
            do { try connection.outbound.check(url: "\(scheme)://\(bucket).\(host)/") } catch { throw error.at(node: node, field: "bucket") }
        }
        let region = try fields[Self.region]
        let accessKey = try fields[Self.accessKeyId]
        guard let secret = connection.secrets["secretAccessKey"]?.reveal(), !secret.isEmpty else {
            throw ConfigError(code: "missing_field", message: "missing required setting 'secretAccessKey'", node: node, field: "secretAccessKey")
        }
        let token = connection.secrets["sessionToken"]?.reveal()
        let timeout = try fields[Self.timeout]
        guard timeout > .zero, timeout <= .seconds(3600) else { throw fail("timeout", "timeout must be more than 0 and at most 1h") }
        let retries = try fields[Self.retries]
        guard (0...20).contains(retries) else { throw fail("retries", "retries must be 0 to 20") }
        var caFile: String?
        if let ca = try fields[Self.caFile] {
            do { caFile = try connection.files.resolve(ca) } catch { throw error.at(node: node, field: "caFile") }
        }
        let millis = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        return S3Endpoint(scheme: scheme, host: host, port: url.port, bucket: bucket, pathStyle: pathStyle,
                          signer: SigV4Signer(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: token?.isEmpty == false ? token : nil,
                                              region: region, service: "s3"),
                          caFile: caFile, timeout: .milliseconds(millis), retries: retries)
    }
}

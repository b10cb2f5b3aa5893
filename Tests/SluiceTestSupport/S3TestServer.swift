import Foundation

/// The test run's S3-compatible server (moto, started on first use by `scripts/s3-server` and stopped when this
/// process exits). Any access key is accepted; each test makes its own bucket.
public enum S3TestServer {
    private static let started: Result<Int, TestServerError> = {
        let dir = "/tmp/sluice-s3-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let script = PostgresTestServer.root.appendingPathComponent("scripts/s3-server").path
        return startTestServer("moto (S3)", script: script, arguments: ["start", dir, "--watch", "\(ProcessInfo.processInfo.processIdentifier)"],
                               portsFile: dir + "/ports", portCount: 1).map { $0[0] }
    }()

    /// The server's port on 127.0.0.1; throws when it could not start.
    public static var port: Int {
        get throws { try started.get() }
    }

    /// A fresh bucket name for one test.
    public static func bucketName() -> String { "t-" + UUID().uuidString.lowercased().prefix(18) }

    /// connections.yaml text for an `s3` connection named `name` to `bucket` on the test server.
    public static func connectionYAML(_ name: String, bucket: String, extra: String = "") throws -> String {
        """
        \(name):
          type: s3
          endpoint: "http://127.0.0.1:\(try port)"
          bucket: \(bucket)
          pathStyle: true
          accessKeyId: testing
          secretAccessKey: testing-secret
        \(extra)
        """
    }
}

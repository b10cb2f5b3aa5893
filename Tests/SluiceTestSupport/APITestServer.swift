import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The test run's REST API (`scripts/api-server`), started on first use and stopped when this process exits:
/// pagination styles, throttling, failures, OAuth2, CSV and JSON Lines, a growing event feed, per-row lookups
/// and a webhook receiver. Tests keep their state apart with a `store` query parameter of their own.
public enum APITestServer {
    /// A running server: its directory (with `cert.pem`), its HTTP port and its HTTPS port.
    public struct Server: Sendable {
        public let directory: String
        public let httpPort: Int
        public let httpsPort: Int

        public var baseURL: String { "http://127.0.0.1:\(httpPort)" }
        public var tlsBaseURL: String { "https://127.0.0.1:\(httpsPort)" }
        public var certificatePath: String { directory + "/cert.pem" }
    }

    private static let started: Result<Server, TestServerError> = {
        let dir = "/tmp/sluice-api-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let script = PostgresTestServer.root.appendingPathComponent("scripts/api-server").path
        return startTestServer("test API", script: script, arguments: ["start", dir, "--watch", "\(ProcessInfo.processInfo.processIdentifier)"],
                               portsFile: dir + "/ports", portCount: 2)
            .map { Server(directory: dir, httpPort: $0[0], httpsPort: $0[1]) }
    }()

    /// The test run's server, started on first use; throws when it could not start.
    public static var server: Server {
        get throws { try started.get() }
    }

    /// Sends a request to the server and returns the JSON body (for setting up and inspecting test state).
    public static func call(_ method: String, _ pathAndQuery: String) async throws -> Any {
        var request = URLRequest(url: URL(string: try server.baseURL + pathAndQuery)!)
        request.httpMethod = method
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONSerialization.jsonObject(with: data)
    }
}

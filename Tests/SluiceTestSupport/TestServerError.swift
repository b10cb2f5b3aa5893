import Foundation

/// A real server the test harness starts (PostgreSQL, Dovecot) could not be started or used. Only the tests
/// that need that server fail with it; the rest of the run goes on.
public struct TestServerError: Error, CustomStringConvertible, Sendable {
    public let server: String
    public let status: Int32
    public let detail: String

    public var description: String {
        "could not start \(server) (exit \(status)); scripts/setup installs what the tests need. \(detail)"
    }
}

/// Starts a server through a helper script that leaves it running, and reads its ports from the file the
/// script writes once the server listens. The script's output (which may hold any installer's or daemon's
/// chatter) is only quoted in the error, never parsed.
public func startTestServer(_ server: String, script: String, arguments: [String], portsFile: String,
                            portCount: Int) -> Result<[Int], TestServerError> {
    let result = PostgresTestServer.spawn(script, arguments)
    let text = (try? String(contentsOfFile: portsFile, encoding: .utf8)) ?? ""
    let ports = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    guard result.status == 0, ports.count == portCount, ports.allSatisfy({ (1...65535).contains($0) }) else {
        let file = text.isEmpty ? "missing" : text.trimmingCharacters(in: .whitespacesAndNewlines)
        return .failure(TestServerError(server: server, status: result.status, detail: "ports file \(portsFile): \(file); output: \(result.output)"))
    }
    return .success(ports)
}

import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The test run's throwaway PostgreSQL cluster: started by `scripts/test` (which exports
/// SLUICE_TEST_POSTGRES), or on first use by `scripts/pg-cluster` when tests run alone; then it stops
/// when this process exits. It accepts TLS as well (a self-signed certificate), so both connection paths are tested.
public enum PostgresTestServer {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The cluster's URL and port, started once; a failure is kept too, so every test that needs the
    /// cluster fails with its reason while the other tests run on.
    private static let started: Result<(url: String, port: Int), TestServerError> = {
        if let url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES"], !url.isEmpty {
            guard let port = portOf(url) else { return .failure(TestServerError(server: "PostgreSQL", status: 0, detail: "SLUICE_TEST_POSTGRES has no port: \(url)")) }
            return .success((url, port))
        }
        let dir = "/tmp/sluice-pg-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let script = root.appendingPathComponent("scripts/pg-cluster").path
        return startTestServer("PostgreSQL", script: script, arguments: ["start", dir, "--watch", "\(ProcessInfo.processInfo.processIdentifier)", "--tls"],
                               portsFile: dir + "/port", portCount: 1)
            .map { ("postgres://postgres@127.0.0.1:\($0[0])/postgres", $0[0]) }
    }()

    private static func portOf(_ url: String) -> Int? {
        url.split(separator: "@").last?.split(separator: "/").first?.split(separator: ":").last.flatMap { Int($0) }
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`; throws when the cluster could not start.
    public static var url: String {
        get throws { try started.get().url }
    }

    /// The cluster's port on 127.0.0.1; throws when the cluster could not start.
    public static var port: Int {
        get throws { try started.get().port }
    }

    /// A new, empty database for one test (so tests can run in parallel); returns its name.
    public static func createDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try psql("postgres", "CREATE DATABASE \(name)")
        return name
    }

    /// Adds a login role that must authenticate with `method` (`scram-sha-256`, `md5` or `password`) over TCP:
    /// a rule for that role goes first in the cluster's pg_hba.conf (the cluster trusts everyone else) and the
    /// server reloads it. The password is stored as MD5 for `md5`, else as SCRAM.
    /// Tests add roles in parallel: one edit of pg_hba.conf at a time, or one would drop another's rule. It returns
    /// once the server enforces the rule (a reload is asynchronous): a login without a password is refused.
    public static func addPasswordRole(_ role: String, password: String, method: String) throws {
        let encryption = method == "md5" ? "md5" : "scram-sha-256"
        try psql("postgres", "SET password_encryption = '\(encryption)'; CREATE ROLE \(role) LOGIN PASSWORD '\(password)'")
        try hbaEdits.withLock { _ in
            let hbaFile = try psql("postgres", "SHOW hba_file")
            let current = try String(contentsOfFile: hbaFile, encoding: .utf8)
            try ("host all \(role) 127.0.0.1/32 \(method)\n" + current).write(toFile: hbaFile, atomically: false, encoding: .utf8)
            try psql("postgres", "SELECT pg_reload_conf()")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let probe = try runProcess("/usr/bin/psql", ["-X", "-w", "-At", "-h", "127.0.0.1", "-p", "\(try port)", "-U", role, "-d", "postgres", "-c", "SELECT 1"])
            if probe.status != 0 { return }
            usleep(50_000)
        }
        throw PSQLFailure(message: "pg_hba.conf rule for \(role) not in force after 10 s")
    }

    private static let hbaEdits = Mutex(())

    /// Runs SQL with psql in `database` and returns the unaligned, tuples-only output (fields separated by |).
    @discardableResult
    public static func psql(_ database: String, _ sql: String) throws -> String {
        let result = try runProcess("/usr/bin/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1", "-p", "\(try port)", "-U", "postgres", "-d", database, "-c", sql])
        guard result.status == 0 else { throw PSQLFailure(message: result.stderr) }
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+; Swift's Glibc module does not export it):
    /// closes every descriptor from 3 up in the child, atomically with the spawn.
    /// Returns why it could not, or nil.
    private static func closeDescriptorsFromThree(_ actions: inout posix_spawn_file_actions_t) -> String? {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            return "posix_spawn_file_actions_addclosefrom_np is missing: glibc 2.34 or newer is needed"
        }
        let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
        let status = closeFrom(&actions, 3)
        return status == 0 ? nil : "posix_spawn_file_actions_addclosefrom_np failed: \(status)"
    }

    public struct PSQLFailure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// posix_spawn + waitpid: the cluster script leaves a daemon behind, which Foundation's `Process`
    /// does not cope with (its wait never returns), so this call manages the child itself.
    /// The child gets stdout and stderr and no other descriptor: a daemon it leaves behind would otherwise
    /// hold the write end of whatever pipe another test had open at that moment (Foundation's pipes are
    /// not close-on-exec), and that test's read would never end while this process lives.
    public static func spawn(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return (-1, "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        if let failure = closeDescriptorsFromThree(&actions) {
            close(fds[0]); close(fds[1])
            return (-1, failure)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(fds[1])
        guard rc == 0 else { close(fds[0]); return (rc, "posix_spawn failed: \(rc)") }
        let output = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (code, String(decoding: output, as: UTF8.self))
    }
}

/// A fresh database on the test cluster, a temporary directory, and a harness whose connections file names
/// the database as `connection` (user postgres, no TLS).
public struct PostgresTestDatabase: Sendable {
    public let name: String
    public let dir: TemporaryDirectory
    public let harness: PipelineHarness

    public init(connection: String) throws {
        dir = try TemporaryDirectory()
        name = try PostgresTestServer.createDatabase()
        let port = try PostgresTestServer.port
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        \(connection): {type: postgres, host: 127.0.0.1, port: \(port), database: \(name), user: postgres, sslmode: disable}
        """)
    }

    @discardableResult
    public func psql(_ sql: String) throws -> String { try PostgresTestServer.psql(name, sql) }
}

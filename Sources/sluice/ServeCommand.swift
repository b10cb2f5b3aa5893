import ArgumentParser
import Foundation
import Logging
import Server
import Store

/// Options shared by the commands that open a server's store.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Data directory (default: $SLUICE_HOME or ./.sluice).", valueName: "dir"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Metadata store: postgres://user:password@host:port/database (default: SQLite in the data directory).", valueName: "url"))
    var store: String?

    @Option(help: ArgumentHelp("File holding the vault's master password (or set SLUICE_MASTER_PASSWORD_FILE).", valueName: "file"))
    var masterPasswordFile: String?

    @Option(help: ArgumentHelp("File holding the key that signs access tokens, mode 0600, created on first start (default: <data-dir>/jwt.key; or set SLUICE_JWT_KEY_FILE). Servers sharing a store need the same file.", valueName: "file"))
    var jwtKeyFile: String?

    func configuration(listen: String = "127.0.0.1:8080", workers: Int = 2) throws -> ServerConfiguration {
        let directory = dataDir ?? ProcessInfo.processInfo.environment["SLUICE_HOME"] ?? ".sluice"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must look like HOST:PORT, e.g. 127.0.0.1:8080")
        }
        let location: StoreLocation?
        do { location = try store.map(StoreLocation.parse) } catch { throw ValidationError(error.message) }
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: directory).standardizedFileURL.path, host: String(listen[..<colon]), port: port,
                                                store: location, workers: workers)
        configuration.jwtKeyFile = (jwtKeyFile ?? ProcessInfo.processInfo.environment["SLUICE_JWT_KEY_FILE"]).map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        return configuration
    }
}

/// How `serve` and `worker` log: format and level, to standard error.
struct LogOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Log lines as text or json (one object per line with time, level, message, and run_id, pipeline and trace_id on run lines).",
                               valueName: "text|json"))
    var logFormat = "text"

    @Option(help: ArgumentHelp("The least severe level logged: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel = "info"

    /// Sets up the process's logging; a wrong value is a usage error.
    func bootstrap() throws {
        guard let format = LogFormat(rawValue: logFormat) else { throw ValidationError("--log-format must be text or json") }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        format.bootstrap(level: level)
    }
}

/// Options of the commands that execute runs (`serve`, `worker`).
struct WorkerOptions: ParsableArguments {
    @Option(help: "Concurrent runs in this process (serve: 0 runs only the API; use `sluice worker` elsewhere).")
    var workers = 2

    @Option(help: ArgumentHelp("Seconds a claim on a run lasts without a heartbeat: a dead worker's runs are retried after this.", valueName: "seconds"))
    var leaseSeconds = 30

    @Flag(help: ArgumentHelp("Let pipelines and triggers send requests to loopback, link-local (cloud metadata) and the store's host; refused by default."))
    var allowPrivateNetwork = false

    @Option(name: .customLong("files-root"),
            help: ArgumentHelp("A workspace root: pipelines may read and write files only inside the roots; relative paths resolve against the first (repeatable; default <data-dir>/files).", valueName: "dir"))
    var filesRoots: [String] = []

    func apply(to configuration: inout ServerConfiguration) throws {
        guard workers >= 0 else { throw ValidationError("--workers must be 0 or more") }
        guard (2...3600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 2 to 3600") }
        configuration.workers = workers
        configuration.allowPrivateNetwork = allowPrivateNetwork
        configuration.filesRoots = filesRoots.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        configuration.leaseMillis = Int64(leaseSeconds) * 1000
    }
}

/// `sluice serve`: the server with its web UI, API and embedded workers.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Sluice server (API, web UI, workers). Zero config: SQLite in ./.sluice.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @OptionGroup var workerOptions: WorkerOptions

    @OptionGroup var logOptions: LogOptions

    @Option(help: ArgumentHelp("Serve HTTPS (and WSS) with this PEM certificate (chain); needs --tls-key.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("How long an access token lasts: 30s, 15m, 2h (1 minute to 24 hours).", valueName: "duration"))
    var accessTokenTtl = "15m"

    @Option(help: ArgumentHelp("How long a sign-in lasts without use (a refresh token's life): 12h, 30d (5 minutes to 365 days).", valueName: "duration"))
    var refreshTokenTtl = "30d"

    @Flag(help: "Do not take part in scheduling triggers (another server schedules; webhooks still work here).")
    var noScheduler = false

    /// Seconds in a duration such as `90s`, `15m`, `2h` or `30d` (a bare number is seconds).
    static func seconds(_ text: String, option: String, range: ClosedRange<Int64>) throws -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let unit = text.last.flatMap { units[$0] }
        guard let count = Int64(unit == nil ? text : String(text.dropLast())), count > 0 else {
            throw ValidationError("\(option) must look like 30s, 15m, 2h or 30d")
        }
        let seconds = count * (unit ?? 1)
        guard range.contains(seconds) else { throw ValidationError("\(option) must be between \(range.lowerBound) and \(range.upperBound) seconds") }
        return seconds
    }

    func run() async throws {
        try logOptions.bootstrap()
        var configuration = try storeOptions.configuration(listen: listen)
        try workerOptions.apply(to: &configuration)
        configuration.scheduling = !noScheduler
        switch (tlsCert, tlsKey) {
        case let (cert?, key?): configuration.tls = ServerTLS(certificateFile: cert, keyFile: key)
        case (nil, nil): break
        default: throw ValidationError("--tls-cert and --tls-key go together")
        }
        configuration.accessTokenSeconds = try Self.seconds(accessTokenTtl, option: "--access-token-ttl", range: 60...86_400)
        configuration.refreshTokenMillis = try Self.seconds(refreshTokenTtl, option: "--refresh-token-ttl", range: 300...365 * 86_400) * 1000
        do {
            try await SluiceServer.serve(configuration, masterPasswordFile: storeOptions.masterPasswordFile) { Terminal.line($0) }
        } catch {
            Terminal.error("sluice serve: \(ServerErrors.message(error))")
            throw ExitStatus.failed
        }
    }
}

/// `sluice worker`: executes queued runs from a shared PostgreSQL store, with no HTTP server.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run workers only, against a shared store (--store postgres://…).")

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var workerOptions: WorkerOptions

    @OptionGroup var logOptions: LogOptions

    func run() async throws {
        try logOptions.bootstrap()
        var configuration = try storeOptions.configuration()
        try workerOptions.apply(to: &configuration)
        do {
            try await SluiceServer.work(configuration, masterPasswordFile: storeOptions.masterPasswordFile) { Terminal.line($0) }
        } catch {
            Terminal.error("sluice worker: \(ServerErrors.message(error))")
            throw ExitStatus.failed
        }
    }
}

/// `sluice user add`: creates users from the shell (the first admin also creates the vault).
/// `sluice keys rotate`: replaces the access-token signing key.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage the server's signing key.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Make a new access-token signing key and end every session: every token signed before stops working. Restart running servers afterwards.")

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            do {
                print(try await SluiceServer.rotateSigningKey(try storeOptions.configuration()))
            } catch {
                Terminal.error("sluice keys rotate: \(ServerErrors.message(error))")
                throw ExitStatus.failed
            }
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage server users from the shell.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a user (headless setup of the first admin).")

        @Argument(help: "User name.")
        var name: String

        @Option(help: "admin or member.")
        var role = "member"

        @Option(help: ArgumentHelp("File holding the user's password.", valueName: "file"))
        var passwordFile: String

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            guard let role = User.Role(rawValue: role) else { throw ValidationError("--role must be admin or member") }
            let password = try Self.readSecret(passwordFile, what: "password")
            let masterFile = storeOptions.masterPasswordFile ?? ProcessInfo.processInfo.environment["SLUICE_MASTER_PASSWORD_FILE"]
            let master = try masterFile.map { try Self.readSecret($0, what: "master password") }
            do {
                print(try await SluiceServer.addUser(try storeOptions.configuration(), name: name, role: role, password: password, masterPassword: master))
            } catch {
                Terminal.error("sluice user add: \(ServerErrors.message(error))")
                throw ExitStatus.failed
            }
        }

        static func readSecret(_ path: String, what: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read the \(what) file \(path)") }
            return text.hasSuffix("\n") ? String(text.dropLast()) : text
        }
    }
}

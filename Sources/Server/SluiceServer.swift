import Foundation
import HummingbirdCore
import HummingbirdTLS
public import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
public import Store
import Scheduler
import Services
import Workers

/// Runs the worker pool as a service: on graceful shutdown it stops claiming and lets current runs finish.
struct WorkerPoolService: Service {
    let pool: WorkerPool

    func run() async throws {
        await withGracefulShutdownHandler {
            await pool.run()
        } onGracefulShutdown: {
            pool.stopClaiming()
        }
    }
}

/// Runs the trigger scheduler as a service: it schedules while this process holds the scheduling role.
struct SchedulerService: Service {
    let scheduler: TriggerScheduler
    let announce: @Sendable (String) -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await scheduler.run(announce: announce)
        }
    }
}

/// `sluice serve`, `sluice worker` and `sluice user add`, as functions the CLI calls.
public enum SluiceServer {
    /// Builds the HTTP application (routes, worker pool service); `onRunning` receives the bound address.
    /// With `configuration.tls` set, it serves HTTPS (and WSS for the events) only.
    public static func application(_ state: ServerState, workers: Int, scheduling: Bool = false, announce: @escaping @Sendable (String) -> Void = { _ in },
                                   onRunning: @escaping @Sendable (String) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        var logger = Logger(label: "sluice.server")
        logger.logLevel = .warning
        var services: [any Service] = workers > 0 ? [WorkerPoolService(pool: state.workerPool(count: workers))] : []
        if scheduling { services.append(SchedulerService(scheduler: state.scheduler(), announce: announce)) }
        let plain: HTTPServerBuilder = .http1WebSocketUpgrade(webSocketRouter: EventRoutes.webSocketRouter(state))
        let tls = try state.configuration.tls.map { try $0.serverConfiguration() }
        let server = try tls.map { try HTTPServerBuilder.tls(plain, tlsConfiguration: $0) } ?? plain
        let scheme = tls == nil ? "http" : "https"
        return Application(router: APIRouter.router(state),
                           server: server,
                           configuration: .init(address: .hostname(state.configuration.host, port: state.configuration.port), serverName: "sluice"),
                           services: services,
                           onServerRunning: { channel in
                               let port = channel.localAddress?.port ?? state.configuration.port
                               await onRunning("\(scheme)://\(state.configuration.host):\(port)")
                           },
                           logger: logger)
    }

    /// Starts the server and blocks until SIGTERM/SIGINT. Prints the URL, and on first start the one-time setup token.
    public static func serve(_ configuration: ServerConfiguration, masterPasswordFile: String?, print: @escaping @Sendable (String) -> Void) async throws {
        let state = try await ServerState.open(configuration)
        let setupToken = try await prepareSetup(state)
        try await unlockFromFile(state, path: masterPasswordFile, print: print)
        let app = try application(state, workers: configuration.workers, scheduling: configuration.scheduling, announce: print) { url in
            print("Sluice is running at \(url)  (store: \(state.store.database.description), workers: \(configuration.workers))")
            if let setupToken {
                print("First start: create the first admin and the vault at \(url)/#setup=\(setupToken)")
                print("  or: curl -X POST \(url)/api/v1/setup -H 'Content-Type: application/json' -d '{\"token\":\"\(setupToken)\",\"username\":\"admin\",\"password\":\"…\",\"master_password\":\"…\"}'")
                print("  or headless: sluice user add admin --role admin --password-file FILE --master-password-file FILE")
            }
        }
        try await app.runService()
        await state.close()
    }

    /// `sluice worker`: executes queued runs from a shared store, with no HTTP server.
    public static func work(_ configuration: ServerConfiguration, masterPasswordFile: String?, print: @escaping @Sendable (String) -> Void) async throws {
        let state = try await ServerState.open(configuration)
        try await unlockFromFile(state, path: masterPasswordFile, print: print)
        var logger = Logger(label: "sluice.worker")
        logger.logLevel = .warning
        print("Sluice worker: \(configuration.workers) worker(s) on \(state.store.database.description)")
        let group = ServiceGroup(configuration: .init(services: [WorkerPoolService(pool: state.workerPool(count: configuration.workers))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await state.close()
    }

    /// `sluice user add`: creates a user from the shell; the first admin also sets up the vault.
    public static func addUser(_ configuration: ServerConfiguration, name: String, role: User.Role, password: String, masterPassword: String?) async throws -> String {
        let state = try await ServerState.open(configuration)
        do {
            let message = try await addUser(state, name: name, role: role, password: password, masterPassword: masterPassword)
            await state.close()
            return message
        } catch {
            await state.close()
            throw error
        }
    }

    static func addUser(_ state: ServerState, name: String, role: User.Role, password: String, masterPassword: String?) async throws -> String {
        try await state.services.users.addFromCommandLine(name: name, role: role, password: password, masterPassword: masterPassword)
    }

    /// `sluice keys rotate`: a new access-token signing key, and every session in the store ended, so every
    /// token signed before stops working (servers read the key at start: restart them).
    public static func rotateSigningKey(_ configuration: ServerConfiguration) async throws -> String {
        let state = try await ServerState.open(configuration)
        do {
            try SigningKeyFile.rotate(configuration.signingKeyFile)
            let ended = try await state.services.sessions.endAllSessions()
            await state.close()
            return "rotated the signing key in \(configuration.signingKeyFile); \(ended) session(s) ended. Restart running servers so they sign with the new key."
        } catch {
            await state.close()
            throw error
        }
    }

    /// On a store without users, makes a one-time setup token (stored hashed) and returns it.
    static func prepareSetup(_ state: ServerState) async throws -> String? {
        try await state.services.users.prepareSetup()
    }

    /// Unlocks the vault with the password in `path` (or `SLUICE_MASTER_PASSWORD_FILE`), for headless hosts.
    static func unlockFromFile(_ state: ServerState, path: String?, print: @Sendable (String) -> Void) async throws {
        guard let path = path ?? ProcessInfo.processInfo.environment["SLUICE_MASTER_PASSWORD_FILE"], !path.isEmpty else { return }
        if let message = try await state.services.vault.unlock(passwordFile: path) { print(message) }
    }
}

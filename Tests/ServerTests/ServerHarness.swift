import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Server
import SluiceTestSupport
import Store
import Synchronization
import Testing

/// A server on a fresh store with an admin ("root") and a member ("mia"), plus helpers to call it in-process.
struct ServerHarness {
    static let adminPassword = "root-password-1"
    static let memberPassword = "mia-password-1"
    static let masterPassword = "master password for tests"

    let directory: TemporaryDirectory
    let state: ServerState
    let users: [String: User]
    var admin: User { users["root"]! }
    var member: User { users["mia"]! }
    /// Every response body seen, to check that no secret ever appears in one.
    let transcript = Transcript()

    /// A harness on a temp SQLite store, or on `store` (e.g. a database of the test PostgreSQL cluster).
    static func make(withUsers: Bool = true, store: StoreLocation? = nil, allowPrivateNetwork: Bool = false,
                     configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> ServerHarness {
        let directory = try TemporaryDirectory()
        var configuration = ServerConfiguration(dataDirectory: directory.path, port: 0, store: store, workers: 0)
        // Long enough that a machine loaded by the whole suite (a heartbeat seconds late) does not lose a run.
        configuration.leaseMillis = 15_000
        configure(&configuration)
        configuration.allowPrivateNetwork = allowPrivateNetwork
        configuration.bcryptCost = 4
        let state = try await ServerState.open(configuration)
        guard withUsers else { return ServerHarness(directory: directory, state: state, users: [:]) }
        _ = try await SluiceServer.addUser(state, name: "root", role: .admin, password: adminPassword, masterPassword: masterPassword)
        _ = try await SluiceServer.addUser(state, name: "mia", role: .member, password: memberPassword, masterPassword: nil)
        let users = try await state.store.users()
        return ServerHarness(directory: directory, state: state, users: Dictionary(uniqueKeysWithValues: users.map { ($0.name, $0) }))
    }

    func close() async {
        await state.close()
        directory.remove()
    }

    /// Runs `body` against the router in-process (no sockets).
    func withClient(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let app = Application(router: APIRouter.router(state))
        try await app.test(.router) { client in try await body(Client(client: client, harness: self)) }
    }

    /// Runs `body` against a live server with `workers` embedded workers on an ephemeral port.
    func withLiveServer(workers: Int, _ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let app = try SluiceServer.application(state, workers: workers)
        try await app.test(.live) { client in try await body(Client(client: client, harness: self)) }
    }

    /// A thin JSON client: returns status and the parsed body, and records every body.
    struct Client: Sendable {
        let client: any TestClientProtocol
        let harness: ServerHarness

        @discardableResult
        func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: JSONValue? = nil, raw: String? = nil,
                  headers extra: [String: String] = [:]) async throws -> (status: HTTPResponse.Status, body: JSONValue, text: String) {
            var headers = HTTPFields()
            if let token { headers[.authorization] = "Bearer \(token)" }
            for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
            var body: ByteBuffer?
            if let json { body = ByteBuffer(string: json.text); headers[.contentType] = "application/json" }
            if let raw { body = ByteBuffer(string: raw); headers[.contentType] = "application/json" }
            return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                let text = String(buffer: response.body)
                harness.transcript.append(text)
                return (response.status, JSONValue.parse(text) ?? .null, text)
            }
        }

        /// Polls a run until it leaves queued/running (up to 15 s) and returns it.
        func finishedRun(_ id: String, token: String) async throws -> JSONValue {
            var run = JSONValue.null
            for _ in 0..<300 {
                run = try await call(.get, "/api/v1/runs/\(id)", token: token).body
                if !["queued", "running"].contains(run["status"]?.stringValue ?? "") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            return run
        }

        /// Signs in and returns (access token, refresh token).
        func login(_ name: String, _ password: String) async throws -> (access: String, refresh: String) {
            let reply = try await call(.post, "/api/v1/auth/login", json: .object(["username": .string(name), "password": .string(password)]))
            #expect(reply.status == .ok, "login failed: \(reply.text)")
            return (reply.body["access_token"]?.stringValue ?? "", reply.body["refresh_token"]?.stringValue ?? "")
        }
    }
}

/// A small pipeline over files in the server's workspace.
func fileCopyPipeline(name: String = "copy", input: String = "in.csv", output: String = "out.csv") -> String {
    """
    apiVersion: sluice/v1
    name: \(name)
    nodes:
      - {id: src, type: csv.read, settings: {path: \(input)}}
      - {id: out, type: csv.write, settings: {path: \(output)}}
    edges:
      - {from: src.out, to: out.in}
    """
}

/// Response bodies collected during a test.
final class Transcript: Sendable {
    private let bodies = Mutex<[String]>([])
    func append(_ text: String) { bodies.withLock { $0.append(text) } }
    var all: [String] { bodies.withLock { $0 } }
}

import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// csv.read and jsonl.read on URLs: plain, through an `http` connection (TLS with its own CA, a bearer token),
/// gzip files and gzip-encoded replies, against the test API on loopback (scripts/api-server).
@Suite struct HTTPFileTests {
    let dir: TemporaryDirectory
    let server: APITestServer.Server
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        server = try APITestServer.server
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        web: {type: http, baseUrl: "\(server.tlsBaseURL)", caFile: "\(server.certificatePath)", auth: bearer, token: good-token}
        anonymous: {type: http, baseUrl: "\(server.tlsBaseURL)", caFile: "\(server.certificatePath)", retries: 0}
        """)
    }

    func expected(_ rows: Int) -> String {
        "id,name,amount\n" + (0..<rows).map { "\($0),customer \($0),\($0 % 100).25\n" }.joined()
    }

    /// Copies what `settings` read into copy.csv; returns the run.
    func copy(_ settings: String) async throws -> HarnessRun {
        try await harness.run("""
        apiVersion: sluice/v1
        name: web-copy
        nodes:
          - {id: web, type: csv.read, settings: {\(settings)}}
          - {id: out, type: csv.write, settings: {path: copy.csv}}
        edges: [{from: web.out, to: out.in}]
        """)
    }

    @Test func plainURLsGzipFilesAndEncodedRepliesReadTheSameRows() async throws {
        for path in ["\(server.baseURL)/files/orders.csv?rows=3000", "\(server.baseURL)/files/orders.csv.gz?rows=3000",
                     "\(server.baseURL)/files/orders.csv?rows=3000&encoding=gzip"] {
            let run = try await copy("path: \"\(path)\"")
            #expect(run.summary.status == .succeeded, "\(path): \(run.summary.error ?? "")")
            #expect(try dir.read("copy.csv") == expected(3000), "\(path)")
        }
    }

    @Test func aConnectionBringsItsCAAndCredentials() async throws {
        let run = try await copy("connection: web, path: /files/private.csv?rows=500")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("copy.csv") == expected(500))

        let refused = await harness.problems("""
        apiVersion: sluice/v1
        name: refused
        nodes:
          - {id: web, type: csv.read, settings: {connection: anonymous, path: /files/private.csv}}
          - {id: out, type: csv.write, settings: {path: copy.csv}}
        edges: [{from: web.out, to: out.in}]
        """)
        #expect(refused.contains { $0.node == "web" && $0.field == "path" && $0.message.contains("401") }, "\(refused)")
    }

    @Test func urlMistakesAreNamed() async throws {
        func problems(_ settings: String, sink: String = "{id: out, type: csv.write, settings: {path: copy.csv}}") async -> [ConfigError] {
            await harness.problems("""
            apiVersion: sluice/v1
            name: mistakes
            nodes:
              - {id: web, type: csv.read, settings: {\(settings)}}
              - \(sink)
            edges: [{from: web.out, to: out.in}]
            """)
        }
        let untrusted = await problems("path: \"\(server.tlsBaseURL)/files/orders.csv\"")
        #expect(untrusted.contains { $0.field == "path" && $0.node == "web" && $0.code == "tls_failed" }, "a self-signed server without its CA: \(untrusted)")
        let missing = await problems("path: \"\(server.baseURL)/files/missing.csv\"")
        #expect(missing.contains { $0.code == "file_not_found" && $0.message.contains("404") }, "\(missing)")
        let glob = await problems("path: \"\(server.baseURL)/files/*.csv\"")
        #expect(glob.contains { $0.message.contains("a URL names one file") }, "\(glob)")
        let write = await problems("path: \"\(server.baseURL)/files/orders.csv\"",
                                   sink: "{id: out, type: csv.write, settings: {path: \"\(server.baseURL)/upload.csv\"}}")
        #expect(write.contains { $0.node == "out" && $0.code == "read_only_store" }, "\(write)")
        let scheme = await problems("path: \"ftp://example.com/a.csv\"")
        #expect(scheme.contains { $0.code == "unsupported_scheme" }, "\(scheme)")
        let notFiles = try PipelineHarness(directory: dir, connectionsYAML: "db: {type: sqlite, path: x.db}")
        let wrongType = await notFiles.problems("""
        apiVersion: sluice/v1
        name: wrong
        nodes:
          - {id: web, type: csv.read, settings: {connection: db, path: a.csv}}
          - {id: out, type: csv.write, settings: {path: copy.csv}}
        edges: [{from: web.out, to: out.in}]
        """)
        #expect(wrongType.contains { $0.code == "connection_type_mismatch" && $0.field == "connection" && ($0.expected ?? "").contains("s3") }, "\(wrongType)")
    }
}

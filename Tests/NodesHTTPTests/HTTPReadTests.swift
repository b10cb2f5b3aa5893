import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// http.read against the real test API on loopback (scripts/api-server).
@Suite struct HTTPReadTests {
    let dir: TemporaryDirectory
    let server: APITestServer.Server
    let harness: PipelineHarness

    init() throws {
        dir = try TemporaryDirectory()
        server = try APITestServer.server
        harness = try PipelineHarness(directory: dir, connectionsYAML: """
        api: {type: http, baseUrl: "\(server.baseURL)", retries: 3}
        tls: {type: http, baseUrl: "\(server.tlsBaseURL)", caFile: "\(server.certificatePath)"}
        untrusted: {type: http, baseUrl: "\(server.tlsBaseURL)", retries: 0}
        bearer: {type: http, baseUrl: "\(server.baseURL)", auth: bearer, token: good-token}
        basic: {type: http, baseUrl: "\(server.baseURL)", auth: basic, username: ann, password: "pa:ss word"}
        limited: {type: http, baseUrl: "\(server.baseURL)", rateLimit: 5}
        impatient: {type: http, baseUrl: "\(server.baseURL)", timeout: 300ms, retries: 1}
        wrongBearer: {type: http, baseUrl: "\(server.baseURL)", auth: bearer, token: bad-token, retries: 0}
        keyHeader: {type: http, baseUrl: "\(server.baseURL)", auth: apiKey, apiKeyName: X-API-Key, apiKey: k123}
        keyQuery: {type: http, baseUrl: "\(server.baseURL)", auth: apiKey, apiKeyName: api_key, apiKeyIn: query, apiKey: k123}
        oauth: {type: http, baseUrl: "\(server.baseURL)", auth: oauth2, tokenUrl: "\(server.baseURL)/oauth/token", clientId: sluice, clientSecret: s3cret}
        oauthShort: {type: http, baseUrl: "\(server.baseURL)", auth: oauth2, tokenUrl: "\(server.baseURL)/oauth/token?lifetime=30", clientId: sluice, clientSecret: s3cret}
        """)
    }

    /// Reads with `settings` into out.jsonl and returns the run and the rows written.
    func read(_ settings: String, connection: String = "api") async throws -> (HarnessRun, [[String: Any]]) {
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: api-read
        nodes:
          - {id: api, type: http.read, settings: {connection: \(connection), \(settings)}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: api.out, to: out.in}
        """)
        let text = (try? dir.read("out.jsonl")) ?? ""
        let rows = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return (run, rows)
    }

    func ids(_ rows: [[String: Any]]) -> [Int] { rows.compactMap { ($0["id"] as? NSNumber)?.intValue } }

    @Test func everyPaginationStyleReadsEachRecordOnce() async throws {
        let styles = [
            "path: /items, query: {total: '23'}, records: data.items, pagination: {style: page, sizeParam: per_page, pageSize: 5, totalPath: meta.total}",
            "path: /offset, query: {total: '23'}, pagination: {style: offset, pageSize: 4}",
            "path: /cursor, query: {total: '23', size: '6'}, records: results, pagination: {style: cursor, cursorPath: next_cursor, cursorParam: cursor}",
            "path: /link, query: {total: '23', size: '7'}, pagination: link",
            "path: /nexturl, query: {total: '23'}, records: items, pagination: {style: nextUrl, nextUrlPath: links.next}",
        ]
        for settings in styles {
            let (run, rows) = try await read(settings)
            #expect(run.summary.status == .succeeded, "\(settings): \(run.summary.error ?? "")")
            #expect(ids(rows) == Array(1...23), "\(settings)")
        }
    }

    @Test func nestedFieldsBecomeColumnsAndMaxPagesStopsWithAWarning() async throws {
        let (run, rows) = try await read("path: /cursor, query: {total: '50', size: '10'}, records: results, flattenDepth: 1, maxPages: 2, pagination: {style: cursor, cursorPath: next_cursor}")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(rows.count == 20)
        #expect(rows.first?["address_city"] as? String == "city 1")
        #expect((rows.first?["address_geo"] as? [String: Any])?["lat"] != nil, "deeper objects stay JSON")
        #expect(run.events.messages.contains { $0.contains("maxPages") })
    }

    @Test func csvAndJSONLinesBodiesAndDeclaredTypes() async throws {
        let (csvRun, csvRows) = try await read("path: /csv, query: {rows: '4'}")
        #expect(csvRun.summary.status == .succeeded, "\(csvRun.summary.error ?? "")")
        #expect(csvRows.count == 4 && csvRows[1]["name"] as? String == "name, 2" && (csvRows[1]["price"] as? NSNumber)?.doubleValue == 2.5)
        let (jsonlRun, jsonlRows) = try await read("path: /jsonl, query: {rows: '3'}, schema: {updated_at: timestamp}")
        #expect(jsonlRun.summary.status == .succeeded, "\(jsonlRun.summary.error ?? "")")
        #expect(jsonlRows.count == 3 && jsonlRows[0]["updated_at"] as? String == "2026-01-01T00:00:01Z")
    }

    @Test func throttlingAndServerErrorsAreRetried() async throws {
        let key = UUID().uuidString
        let started = ContinuousClock.now
        let (run, rows) = try await read("path: /ratelimited, query: {key: '\(key)'}, schema: {id: int64}, inferRecords: 0")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(rows.count == 1)
        #expect(ContinuousClock.now - started >= .milliseconds(900), "Retry-After: 1 was honoured")
        let (flaky, flakyRows) = try await read("path: /flaky, query: {key: '\(key)', fail: '2'}, schema: {id: int64}, inferRecords: 0")
        #expect(flaky.summary.status == .succeeded, "\(flaky.summary.error ?? "")")
        #expect(flakyRows.count == 2)
        #expect(flaky.events.messages.contains { $0.contains("answered 500; retrying") })
    }

    @Test func authenticationSchemes() async throws {
        for (connection, path) in [("basic", "/basic"), ("bearer", "/bearer"), ("keyHeader", "/apikey"), ("keyQuery", "/apikey"), ("oauth", "/protected")] {
            let (run, rows) = try await read("path: \(path)", connection: connection)
            #expect(run.summary.status == .succeeded, "\(connection): \(run.summary.error ?? "")")
            #expect(!rows.isEmpty, "\(connection)")
        }
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: wrong
        nodes:
          - {id: api, type: http.read, settings: {connection: wrongBearer, path: /bearer}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: api.out, to: out.in}
        """)
        #expect(problems.first?.message.contains("401") == true, "\(problems)")
    }

    @Test func theRateLimitSpacesRequestsAndSlowAnswersTimeOut() async throws {
        let started = ContinuousClock.now
        let (run, rows) = try await read("path: /offset, query: {total: '12'}, pagination: {style: offset, pageSize: 2}, schema: {id: int64}, inferRecords: 0",
                                         connection: "limited")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(rows.count == 12)
        #expect(ContinuousClock.now - started >= .milliseconds(1100), "7 requests at 5 per second take at least 1.2 s")
        // An answer 20 times later than the 300 ms timeout: a loaded CI machine once delayed the timeout past a 1.5 s answer.
        let (slow, _) = try await read("path: /slow, query: {ms: '6000'}, schema: {id: int64}, inferRecords: 0", connection: "impatient")
        #expect(slow.summary.status == .failed)
        #expect(slow.summary.error?.contains("failed after 2 attempt(s)") == true, "\(slow.summary.error ?? "")")
    }

    @Test func oauthTokensAreCachedAndRenewedBeforeTheyExpire() async throws {
        func fetches() async throws -> Int { ((try await APITestServer.call("GET", "/calls") as? [String: Any])?["token_fetches"] as? NSNumber)?.intValue ?? -1 }
        let before = try await fetches()
        let (run, _) = try await read("path: /protected, query: {total: '9'}", connection: "oauth")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let cached = try await fetches() - before
        #expect(cached <= 2, "one token for planning and one for the run, however many requests: \(cached)")
        // A token living 30 s is renewed before every request (renewal starts 30 s before expiry).
        let middle = try await fetches()
        let (short, _) = try await read("path: /items, query: {total: '9'}, records: data.items, pagination: {style: page, sizeParam: per_page, pageSize: 3}",
                                        connection: "oauthShort")
        #expect(short.summary.status == .succeeded, "\(short.summary.error ?? "")")
        #expect(try await fetches() - middle >= 4, "each of the pages got a fresh token")
    }

    @Test func aPrivateCertificateAuthorityIsTrustedOnlyWhenConfigured() async throws {
        let (ok, okRows) = try await read("path: /jsonl, query: {rows: '2'}", connection: "tls")
        #expect(ok.summary.status == .succeeded, "\(ok.summary.error ?? "")")
        #expect(okRows.count == 2)
        let problems = await harness.problems("""
        apiVersion: sluice/v1
        name: untrusted
        nodes:
          - {id: api, type: http.read, settings: {connection: untrusted, path: /jsonl}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: api.out, to: out.in}
        """)
        #expect(!problems.isEmpty, "a certificate from an unknown authority is refused")
    }

    @Test func theServerPolicyKeepsRequestsAwayFromLoopback() async throws {
        var connection = try #require(harness.connections.connections["api"])
        connection.outbound = OutboundPolicy(allowsPrivateNetwork: false)
        let restricted = PipelineHarness(directory: dir, connections: ConnectionCatalog([connection]))
        let problems = await restricted.problems("""
        apiVersion: sluice/v1
        name: ssrf
        nodes:
          - {id: api, type: http.read, settings: {connection: api, path: /jsonl}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges:
          - {from: api.out, to: out.in}
        """)
        #expect(problems.first?.message.contains("address_forbidden") == true || problems.first?.message.contains("loopback") == true, "\(problems)")
    }

    @Test func credentialsGoOnlyToTheConnectionsOwnOrigin() async throws {
        // Same host written another way (localhost) is another origin: neither a redirect nor an absolute path carries the token there.
        let elsewhere = "http://localhost:\(server.httpPort)/echo-auth"
        let (own, ownRows) = try await read("path: /echo-auth", connection: "bearer")
        #expect(own.summary.status == .succeeded && ownRows.first?["authorization"] as? String == "Bearer good-token")
        let (redirected, redirectedRows) = try await read("path: /redirect, query: {to: '\(elsewhere)'}", connection: "bearer")
        #expect(redirected.summary.status == .succeeded, "\(redirected.summary.error ?? "")")
        #expect(redirectedRows.first?["authorization"] as? String == "", "the token did not follow the redirect")
        let (absolute, absoluteRows) = try await read("path: '\(elsewhere)'", connection: "keyQuery")
        #expect(absolute.summary.status == .succeeded && absoluteRows.first?["api_key"] as? String == "", "the API key was not sent to another origin")
    }

    @Test func secretsNeverAppearInLogsEventsOrRejects() async throws {
        let (run, _) = try await read("path: /flaky, query: {key: '\(UUID().uuidString)', fail: '1'}, schema: {id: int64}, inferRecords: 0", connection: "keyQuery")
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        let everything = run.events.messages.joined(separator: "\n") + (run.summary.error ?? "") + run.rejects.map(\.jsonLine).joined()
        #expect(everything.contains("retrying"), "the retry was logged")
        #expect(!everything.contains("k123"))
    }
}

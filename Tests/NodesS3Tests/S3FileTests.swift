import Foundation
import NIOCore
import NodeKit
import Runtime
import SluiceTestSupport
import Testing
@testable import NodesS3

/// File nodes on an `s3` connection, against the S3 server of moto on loopback (scripts/s3-server).
@Suite struct S3FileTests {
    let dir: TemporaryDirectory
    let bucket: String
    let harness: PipelineHarness
    let client: S3Client

    init() async throws {
        dir = try TemporaryDirectory()
        bucket = S3TestServer.bucketName()
        harness = try PipelineHarness(directory: dir, connectionsYAML: try S3TestServer.connectionYAML("lake", bucket: bucket) + "\n"
            + S3TestServer.connectionYAML("smallparts", bucket: bucket, extra: "  partSize: 5MB\n  concurrency: 3"))
        client = try S3Client(try S3Connector.endpoint(harness.connections.connections["lake"]!))
        try await client.createBucket()
    }

    func csv(rows: Int, from: Int = 0) -> String {
        "id,name,amount\n" + (from..<(from + rows)).map { "\($0),customer \($0),\($0 % 100).25\n" }.joined()
    }

    /// Writes `rows` rows like `csv(rows:)` to `name` with awk (fast, where building the text in a debug build is not).
    func writeCSV(_ name: String, rows: Int) throws {
        let made = try runProcess("/bin/sh", ["-c", "awk 'BEGIN { print \"id,name,amount\"; for (i = 0; i < \(rows); i++) printf \"%d,customer %d,%d.25\\n\", i, i, i % 100 }' > '\(dir.file(name))'"])
        #expect(made.status == 0)
    }

    func sameFiles(_ a: String, _ b: String) throws -> Bool {
        try runProcess("/usr/bin/cmp", ["-s", dir.file(a), dir.file(b)]).status == 0
    }

    func object(_ key: String) async throws -> String {
        String(buffer: try await client.get(key, range: nil, etag: nil))
    }

    @Test func csvWrittenToABucketAppearsAtCommitAndReadsBack() async throws {
        try dir.write("orders.csv", csv(rows: 500))
        let write = try await harness.run("""
        apiVersion: sluice/v1
        name: land
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv}}
          - {id: land, type: csv.write, settings: {connection: lake, path: raw/orders/2026-12-05.csv}}
        edges: [{from: src.out, to: land.in}]
        """)
        #expect(write.summary.status == .succeeded, "\(write.summary.error ?? "")")
        #expect(try await object("raw/orders/2026-12-05.csv") == csv(rows: 500))

        let read = try await harness.run("""
        apiVersion: sluice/v1
        name: back
        nodes:
          - {id: lake, type: csv.read, settings: {connection: lake, path: "raw/**/*.csv"}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges: [{from: lake.out, to: out.in}]
        """)
        #expect(read.summary.status == .succeeded, "\(read.summary.error ?? "")")
        let lines = try dir.read("out.jsonl").split(separator: "\n")
        #expect(lines.count == 500)
        #expect(lines.first == #"{"id":0,"name":"customer 0","amount":0.25}"#)
    }

    @Test func aLargeOutputIsUploadedInManyPartsAndReadBackByRanges() async throws {
        // About 17 MB: three parts of 5 MB and a last one, three in flight.
        try writeCSV("big.csv", rows: 500_000)
        let size = try FileManager.default.attributesOfItem(atPath: dir.file("big.csv"))[.size] as! Int
        let write = try await harness.run("""
        apiVersion: sluice/v1
        name: big
        nodes:
          - {id: src, type: csv.read, settings: {path: big.csv}}
          - {id: land, type: csv.write, settings: {connection: smallparts, path: big/all.csv}}
        edges: [{from: src.out, to: land.in}]
        """)
        #expect(write.summary.status == .succeeded, "\(write.summary.error ?? "")")
        let listed = try await S3FileStore(client: client, connectionName: "lake", readChunk: 5 << 20, readAhead: 3, partSize: 5 << 20, uploadsInFlight: 3).list("big/*.csv")
        #expect(listed.map(\.path) == ["big/all.csv"])
        #expect(listed.first?.size == Int64(size))
        let parts = Int(listed.first?.etag?.split(separator: "-").last?.filter(\.isNumber) ?? "") ?? 0
        #expect(parts == (size + (5 << 20) - 1) / (5 << 20), "a multipart ETag ends in -<parts>: \(listed.first?.etag ?? "nil"), \(size) bytes")
        #expect(try await client.multipartUploads(prefix: "big/").isEmpty)

        let read = try await harness.run("""
        apiVersion: sluice/v1
        name: back
        nodes:
          - {id: lake, type: csv.read, settings: {connection: smallparts, path: big/all.csv}}
          - {id: out, type: csv.write, settings: {path: copy.csv}}
        edges: [{from: lake.out, to: out.in}]
        """)
        #expect(read.summary.status == .succeeded, "\(read.summary.error ?? "")")
        #expect(try sameFiles("copy.csv", "big.csv"))
    }

    @Test func aFailedRunLeavesNoObjectAndNoParts() async throws {
        try writeCSV("big.csv", rows: 500_000)
        let failing = PipelineHarness(registry: testRegistry, directory: dir, connections: harness.connections)
        let run = try await failing.run("""
        apiVersion: sluice/v1
        name: fails
        nodes:
          - {id: src, type: csv.read, settings: {path: big.csv, batchRows: 16384}}
          - {id: boom, type: test.fail, settings: {after: 25}}
          - {id: land, type: csv.write, settings: {connection: smallparts, path: failed/out.csv}}
        edges: [{from: src.out, to: boom.in}, {from: boom.out, to: land.in}]
        """)
        #expect(run.summary.status == .failed)
        #expect(try await client.multipartUploads(prefix: "failed/").isEmpty)
        var keys: [String] = []
        try await client.list(prefix: "failed/") { keys.append($0.path) }
        #expect(keys.isEmpty)
    }

    @Test func filesCopyMovesObjectsWholeInManyPartsAndNothingOnFailure() async throws {
        try writeCSV("big.csv", rows: 500_000)
        let up = try await harness.run("""
        apiVersion: sluice/v1
        name: copy-up
        nodes:
          - {id: copy, type: files.copy, settings: {path: "*.csv", toConnection: smallparts, to: "copied/"}}
        """)
        #expect(up.summary.status == .succeeded, "\(up.summary.error ?? "")")
        let down = try await harness.run("""
        apiVersion: sluice/v1
        name: copy-down
        nodes:
          - {id: copy, type: files.copy, settings: {connection: lake, path: "copied/big.csv", to: back.csv}}
        """)
        #expect(down.summary.status == .succeeded, "\(down.summary.error ?? "")")
        #expect(try sameFiles("big.csv", "back.csv"))

        // A failure downstream of the copy aborts its multipart upload: no object, no parts.
        let failing = PipelineHarness(registry: testRegistry, directory: dir, connections: harness.connections)
        let failed = try await failing.run("""
        apiVersion: sluice/v1
        name: copy-fails
        nodes:
          - {id: copy, type: files.copy, settings: {path: "*.csv", toConnection: smallparts, to: "copy-failed/"}}
          - {id: boom, type: test.fail}
          - {id: seen, type: log}
        edges: [{from: copy.out, to: boom.in}, {from: boom.out, to: seen.in}]
        """)
        #expect(failed.summary.status == .failed)
        #expect(try await client.multipartUploads(prefix: "copy-failed/").isEmpty)
        var keys: [String] = []
        try await client.list(prefix: "copy-failed/") { keys.append($0.path) }
        #expect(keys.isEmpty, "\(keys)")
    }

    @Test func listingPagesBeyondAThousandKeys() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<1_050 {
                if i >= 16 { try await group.next() }
                group.addTask { try await client.put(String(format: "many/%04d.csv", i), body: .bytes(ByteBuffer(string: "n\n\(i)\n"))) }
            }
            try await group.waitForAll()
        }
        try await client.put("many/notes.txt", body: .bytes(ByteBuffer(string: "not csv")))
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: many
        nodes:
          - {id: lake, type: csv.read, settings: {connection: lake, path: "many/*.csv"}}
          - {id: total, type: aggregate, settings: {aggregates: {files: "count(*)", total: "sum(n)"}}}
          - {id: out, type: jsonl.write, settings: {path: total.jsonl}}
        edges: [{from: lake.out, to: total.in}, {from: total.out, to: out.in}]
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("total.jsonl") == #"{"files":1050,"total":550725}"# + "\n")
    }

    @Test func gzipObjectsAreReadTransparently() async throws {
        try dir.write("plain.csv", csv(rows: 2_000))
        let gz = try runProcess("/bin/sh", ["-c", "gzip -c '\(dir.file("plain.csv"))' > '\(dir.file("plain.csv.gz"))'"])
        #expect(gz.status == 0)
        try await client.put("zipped/orders.csv.gz", body: .bytes(ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: dir.file("plain.csv.gz"))))))
        let run = try await harness.run("""
        apiVersion: sluice/v1
        name: gz
        nodes:
          - {id: lake, type: csv.read, settings: {connection: lake, path: zipped/orders.csv.gz}}
          - {id: out, type: csv.write, settings: {path: unzipped.csv}}
        edges: [{from: lake.out, to: out.in}]
        """)
        #expect(run.summary.status == .succeeded, "\(run.summary.error ?? "")")
        #expect(try dir.read("unzipped.csv") == csv(rows: 2_000))
    }

    @Test func mistakesAreNamed() async throws {
        let missing = await harness.problems("""
        apiVersion: sluice/v1
        name: missing
        nodes:
          - {id: lake, type: csv.read, settings: {connection: lake, path: "nothing/*.csv"}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges: [{from: lake.out, to: out.in}]
        """)
        #expect(missing.contains { $0.code == "file_not_found" && $0.node == "lake" && $0.message.contains("s3 connection 'lake'") }, "\(missing)")

        let wrongBucket = try PipelineHarness(directory: dir, connectionsYAML: try S3TestServer.connectionYAML("gone", bucket: "no-such-bucket-here"))
        let problems = await wrongBucket.problems("""
        apiVersion: sluice/v1
        name: gone
        nodes:
          - {id: lake, type: csv.read, settings: {connection: gone, path: "x.csv"}}
          - {id: out, type: jsonl.write, settings: {path: out.jsonl}}
        edges: [{from: lake.out, to: out.in}]
        """)
        #expect(problems.contains { $0.field == "path" && $0.message.contains("NoSuchBucket") }, "\(problems)")

        let checked = try await S3Connector.check(harness.connections.connections["lake"]!)
        #expect(checked.message.contains("bucket '\(bucket)'"))
    }
}

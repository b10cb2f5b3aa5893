import Foundation
import SluiceTestSupport
import Testing

/// `sluice discover` on an `s3` connection: files with sizes, and the schema a read node would infer, after a
/// `sluice run` landed them in the bucket (moto on loopback).
@Suite struct FileDiscoveryCommandTests {
    @Test func discoverListsFilesAndInfersTheirSchemas() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let bucket = S3TestServer.bucketName()
        // moto does not require a signature to create a bucket.
        let made = try runProcess("/usr/bin/curl", ["-s", "-f", "-X", "PUT", "http://127.0.0.1:\(try S3TestServer.port)/\(bucket)"])
        #expect(made.status == 0, "\(made.stderr)")
        try dir.write("connections.yaml", try S3TestServer.connectionYAML("lake", bucket: bucket))
        try dir.write("orders.csv", "id,amount,day\n1,2.50,2026-01-01\n2,N/A,2026-01-02\n")
        try dir.write("land.yaml", """
        apiVersion: sluice/v1
        name: land
        nodes:
          - {id: src, type: csv.read, settings: {path: orders.csv, schema: {amount: string}}}
          - {id: csv, type: csv.write, settings: {connection: lake, path: raw/2026/orders.csv}}
          - {id: jsonl, type: jsonl.write, settings: {connection: lake, path: raw/orders.jsonl}}
        edges: [{from: src.out, to: csv.in}, {from: src.out, to: jsonl.in}]
        """)
        let run = try CommandLineTests.sluice(["run", "land.yaml"], in: dir.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        let listed = try CommandLineTests.sluice(["discover", "lake"], in: dir.path)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("raw/2026/orders.csv") && listed.stdout.contains("raw/orders.jsonl"), "\(listed.stdout)")
        #expect(listed.stdout.contains("raw/2026/orders.csv:\n  id      int64\n  amount  string\n  day     date"), "\(listed.stdout)")

        let json = try CommandLineTests.sluice(["discover", "lake", "--path", "raw/*.jsonl", "--json"], in: dir.path)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let files = object?["files"] as? [[String: Any]] ?? []
        #expect(files.map { $0["path"] as? String } == ["raw/orders.jsonl"], "\(json.stdout)")
        let columns = ((object?["schemas"] as? [[String: Any]])?.first?["columns"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(columns == ["id", "amount", "day"], "\(json.stdout)")
    }
}

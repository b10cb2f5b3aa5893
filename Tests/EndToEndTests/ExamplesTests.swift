import Foundation
import NodeKit
import Runtime
import SluiceTestSupport
import Testing

/// Runs every pipeline in examples/ on its shipped sample data and checks the outputs.
@Suite struct ExamplesTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    /// A fresh copy of examples/ so outputs never land in the repository.
    static func copy() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for name in try FileManager.default.subpathsOfDirectory(atPath: examples.path) where !name.hasPrefix("out") && !name.hasPrefix(".sluice") {
            let source = examples.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { try dir.write(name, try Data(contentsOf: source)) }
        }
        return dir
    }

    static func run(_ name: String) async throws -> (HarnessRun, TemporaryDirectory) {
        let dir = try copy()
        let harness = PipelineHarness(directory: dir)
        return (try await harness.run(try dir.read(name)), dir)
    }

    @Test func everyExampleIsValidAndRuns() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path).filter { $0.hasSuffix(".yaml") && !$0.hasSuffix(".test.yaml") }.sorted()
        #expect(names.count >= 3)
        for name in names {
            let (run, dir) = try await Self.run(name)
            defer { dir.remove() }
            #expect(run.summary.status == .succeeded, "\(name): \(run.summary.error ?? "")")
        }
    }

    @Test func paidOrdersByCountry() async throws {
        let (run, dir) = try await Self.run("paid-orders-by-country.yaml")
        defer { dir.remove() }
        let output = try dir.read("out/paid_by_country.csv")
        #expect(output == """
        country,status,orders,revenue,average,revenue_with_tax
        DE,paid,2,210.4,105.2,252.48
        GB,paid,1,64,64,76.8
        JP,paid,1,1450,1450,1740
        FR,paid,1,99,99,118.8
        US,paid,1,250,250,300

        """)
        // 11 input records: 10 read, 1 rejected with its line number; nothing lost.
        let orders = try #require(run.summary.counts("orders"))
        #expect(orders == NodeCounts(recordsIn: 0, recordsOut: 10, rejected: 1, bytes: orders.bytes, bytesExpected: orders.bytes))
        // The source declared the file's size before reading and read all of it: its progress is complete.
        let size = try FileManager.default.attributesOfItem(atPath: dir.file("data/orders.csv"))[.size] as? Int
        #expect(orders.bytesExpected == size && orders.progress == 1)
        let reject = try #require(run.rejects.first)
        #expect(reject.record.line == 10 && reject.record.field == "amount" && reject.record.code == "invalid_value")
        if case let .text(raw) = reject.record.payload { #expect(raw.hasPrefix("9,102,")) } else { Issue.record("raw text expected") }
    }

    @Test func cleanCustomers() async throws {
        let (run, dir) = try await Self.run("clean-customers.yaml")
        defer { dir.remove() }
        let lines = try dir.read("out/customers.jsonl").split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.first == #"{"id":1,"full_name":"Ann Meyer","email":"ann@example.com","country":"DE","first_tag":"vip","tenure_days":351}"#)
        #expect(run.summary.rejected == 2)
        #expect(Set(run.rejects.compactMap(\.record.line)) == [4, 6])
        #expect(run.events.messages.contains("sample: 4 rows"))
        #expect(try dir.read("out/customers_per_country.csv").contains("US,1,,\n"))
    }

    @Test func mergeRegions() async throws {
        let (run, dir) = try await Self.run("merge-regions.yaml")
        defer { dir.remove() }
        // Largest first: the union's order depends on which file is read first, the sort's does not.
        #expect(try dir.read("out/paid_orders.csv") == "id,country,amount,status,size\n200,US,250,paid,large\n101,FR,99.9,paid,medium\n100,DE,12.5,paid,small\n")
        #expect(run.summary.rejected == 1)
        // The log node waits for the save to commit (signal edge).
        let order = run.events.events.compactMap { event -> String? in
            switch event {
            case let .nodeCommitted(node): "committed \(node)"
            case let .nodeStarted(node, _): "started \(node)"
            default: nil
            }
        }
        #expect(order.firstIndex(of: "committed save")! < order.firstIndex(of: "started done")!)
    }
}

import ArgumentParser
import Foundation

/// `sluice init [DIR]`: writes an example pipeline and sample data that run as they are.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an example pipeline with sample data.")

    @Argument(help: "Directory to create the files in.")
    var directory = "."

    @Flag(help: "Overwrite existing files.")
    var force = false

    func run() async throws {
        let files = [("pipeline.yaml", InitTemplate.pipeline), ("data/orders.csv", InitTemplate.orders)]
        let manager = FileManager.default
        for (name, _) in files where !force && manager.fileExists(atPath: path(name)) {
            Terminal.error("\(path(name)) already exists; use --force to overwrite")
            throw ExitStatus.invalid
        }
        for (name, text) in files {
            let folder = (path(name) as NSString).deletingLastPathComponent
            if !folder.isEmpty { try manager.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            try text.write(toFile: path(name), atomically: true, encoding: .utf8)
            print("created \(path(name))")
        }
        print("\nNext:\n  sluice validate \(path("pipeline.yaml"))\n  sluice run \(path("pipeline.yaml"))")
    }

    private func path(_ name: String) -> String { directory == "." ? name : (directory as NSString).appendingPathComponent(name) }
}

/// The files `sluice init` writes.
enum InitTemplate {
    static let pipeline = #"""
    apiVersion: sluice/v1
    name: paid-orders-by-country
    description: Totals of paid orders over a minimum amount, per country and status.
    parameters:
      minAmount: { type: float64, default: 50 }
    settings: { onRecordError: reject, maxRejected: 100 }
    nodes:
      - id: orders
        type: csv.read@1
        settings: { path: data/orders.csv, schema: { amount: float64 } }
      - id: paid
        type: filter@1
        settings: { where: "status = 'paid' AND amount > ${minAmount}" }
      - id: taxed
        type: compute@1
        settings:
          columns:
            amount_with_tax: "round(amount * 1.2, 2)"
            day: "date_trunc('day', created_at)"
      - id: totals
        type: aggregate@1
        settings:
          groupBy: [country, status]
          aggregates:
            orders: "count(*)"
            revenue: "sum(amount)"
            average: "avg(amount)"
            revenue_with_tax: "sum(amount_with_tax)"
      - id: save
        type: csv.write@1
        settings: { path: out/paid_by_country.csv }
    edges:
      - { from: orders.out, to: paid.in }
      - { from: paid.out, to: taxed.in }
      - { from: taxed.out, to: totals.in }
      - { from: totals.out, to: save.in }

    """#

    static let orders = #"""
    id,customer_id,created_at,order_date,amount,quantity,status,note,email,country,is_gift,discount_code
    1,101,2024-03-01T09:15:00+01:00,2024-03-01,120.50,2,paid,,ann@example.com,DE,false,
    2,102,2024-03-01T10:02:11+01:00,2024-03-01,35.00,1,paid,"gift, wrapped",bo@example.com,FR,true,SPRING
    3,103,2024-03-02T14:45:30-05:00,2024-03-02,310.99,5,shipped,,cy@example.com,US,false,
    4,101,2024-03-02T16:20:00+01:00,2024-03-02,89.90,1,paid,"said ""urgent""",ann@example.com,DE,false,
    5,104,2024-03-03T08:00:00+00:00,2024-03-03,64.00,,paid,,di@example.com,GB,false,WELCOME
    6,105,2024-03-03T11:30:00+09:00,2024-03-03,1450.00,3,paid,bulk order,eve@example.com,JP,false,
    7,106,2024-03-04T12:00:00-05:00,2024-03-04,58.25,2,cancelled,,fay@example.com,US,true,
    8,107,2024-03-04T13:13:13+01:00,2024-03-04,99.00,4,paid,,gus@example.com,FR,false,
    9,102,2024-03-05T09:09:09+01:00,2024-03-05,not-a-number,1,paid,,bo@example.com,FR,false,
    10,108,2024-03-05T18:45:00-05:00,2024-03-05,250.00,2,paid,"multi
    line note",hal@example.com,US,false,
    11,109,2024-03-06T07:30:00+01:00,2024-03-06,51.00,1,refunded,,ivy@example.com,DE,false,

    """#
}

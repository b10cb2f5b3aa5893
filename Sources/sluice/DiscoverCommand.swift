import ArgumentParser
import BuiltinNodes
import Columnar
import Foundation
import NodeKit

/// `sluice discover CONNECTION`: tables, columns, types, nullability and primary keys of a database connection;
/// files (path, size, modified) of a file connection, with the inferred schema of the first CSV and JSONL files.
struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "discover", abstract: "List the tables of a database connection, or the files of a file connection (s3) with their inferred schemas.")

    @Argument(help: "The connection's name in the connections file.")
    var connection: String

    @Option(help: "Only this schema (PostgreSQL).")
    var schema: String?

    @Option(help: ArgumentHelp("Only files matching this path or glob (file connections; default: every file).", valueName: "glob"))
    var path = "**"

    @Option(help: ArgumentHelp("Connections file.", valueName: "file"))
    var connections = "connections.yaml"

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let catalog: ConnectionCatalog
        do { catalog = try ConnectionsFile.load(path: connections, specs: BuiltinNodes.connectors.specs) } catch {
            Output(json: json).problems(error.errors)
            throw ExitStatus.invalid
        }
        guard let named = catalog.connections[connection] else {
            Terminal.error("no connection named '\(connection)' in \(connections); known: \(catalog.connections.keys.sorted().joined(separator: ", "))")
            throw ExitStatus.invalid
        }
        let connectors = BuiltinNodes.connectors
        if connectors.connector(named.type, offering: (any FileStoring.Type).self) != nil {
            return try await FileDiscovery(catalog: catalog, connection: named.name, pattern: path).print(json: json)
        }
        guard let discoverer = connectors.connector(named.type, offering: (any SchemaDiscovering.Type).self) else {
            Terminal.error("\(named.type) connections cannot be discovered; discovery needs \(connectors.describeTypes(offering: (any SchemaDiscovering.Type).self))")
            throw ExitStatus.invalid
        }
        let tables: [TableDescription]
        do { tables = try await discoverer.discover(named, schema: schema) } catch {
            Terminal.error("discovery failed: \(error)")
            throw ExitStatus.failed
        }
        if json {
            print(TableDescription.json(tables))
            return
        }
        for table in tables {
            print((table.schema.map { "\($0)." } ?? "") + table.name + (table.primaryKey.isEmpty ? "" : "  (primary key: \(table.primaryKey.joined(separator: ", ")))"))
            let width = table.columns.map(\.name.count).max() ?? 0
            for column in table.columns {
                print("  \(column.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(column.databaseType) → \(column.type)\(column.nullable ? "" : " not null")")
            }
        }
    }
}

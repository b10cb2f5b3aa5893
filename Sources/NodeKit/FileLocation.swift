/// Where a file node's `path` leads: the store (the local disk or workspace, a connection's bucket or server, a
/// web server for a plain `https://` URL) and the path or glob inside it.
public struct FileLocation: Sendable {
    public let store: any FileStore
    /// Resolved by `FileRoots` for the local store; as written (relative to the bucket or server) otherwise.
    public let path: String

    public init(store: any FileStore, path: String) {
        self.store = store
        self.path = path
    }

    public var isLocal: Bool { store is LocalFileStore }

    /// "'landing/*.csv' in s3 connection 'lake'" for messages; a local path alone.
    public var described: String { isLocal ? "'\(path)'" : "'\(path)' in \(store.label)" }
}

extension Settings {
    /// The store and path a file node's `path` and optional `connection` settings name: the connection's store
    /// (its connector must offer `FileStoring`), a connector's store for a URL scheme it reads without a
    /// connection (`https://…`), or the local files (confined to the workspace on the server).
    public func fileLocation(path pathField: Field<String>, connection connectionField: Field<ConnectionName?>, writing: Bool = false) throws(ConfigError) -> FileLocation {
        let written = try self[pathField]
        let ability = (any FileStoring.Type).self
        if let name = try self[connectionField]?.name {
            guard let connection = connections.connections[name] else {
                let usable = connections.connections.values.filter { connectors.connector($0.type, offering: ability) != nil }.map(\.name).sorted()
                let place = connections.source.map { " in \($0)" } ?? " (pass --connections FILE or put connections.yaml beside the pipeline)"
                throw ConfigError(code: "unknown_connection", message: "no connection named '\(name)'\(place)", location: location(of: connectionField), node: node,
                                  field: connectionField.name,
                                  expected: usable.isEmpty ? connectors.describeTypes(offering: ability) : "one of: \(usable.joined(separator: ", "))")
            }
            guard let connector = connectors.connector(connection.type, offering: ability) else {
                throw error(connectionField, "connection '\(name)' is a \(connection.type) connection, which holds no files", code: "connection_type_mismatch",
                            expected: connectors.describeTypes(offering: ability))
            }
            let store: any FileStore
            do { store = try connector.fileStore(connection, outbound: connection.outbound) } catch let failure as ConfigError {
                throw failure.at(node: node, field: connectionField.name, location: location(of: connectionField))
            } catch {
                throw self.error(connectionField, "\(error)")
            }
            if writing, !store.isWritable { throw error(connectionField, "\(store.label) is read-only", code: "read_only_store") }
            return FileLocation(store: store, path: written)
        }
        if let scheme = Self.urlScheme(written) {
            guard let connector = connectors.all.compactMap({ $0 as? any FileStoring.Type }).first(where: { $0.urlSchemes.contains(scheme) }) else {
                throw error(pathField, "'\(scheme)://' paths are not supported here; name a connection for remote files", code: "unsupported_scheme")
            }
            let store: any FileStore
            do { store = try connector.fileStore(nil, outbound: connections.outbound) } catch {
                throw self.error(pathField, "\(error)")
            }
            if writing, !store.isWritable { throw error(pathField, "\(scheme):// paths can only be read", code: "read_only_store") }
            return FileLocation(store: store, path: written)
        }
        return FileLocation(store: LocalFileStore(files: files), path: try path(pathField))
    }

    /// The lowercased scheme of a URL-like path (`https` in `https://host/x.csv`), nil for a file path.
    static func urlScheme(_ path: String) -> String? {
        guard let colon = path.firstIndex(of: ":"), path[colon...].hasPrefix("://") else { return nil }
        let scheme = path[..<colon]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else { return nil }
        return scheme.lowercased()
    }
}

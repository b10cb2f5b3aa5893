import NodeKit

/// What every file node shares: the `connection` setting that picks the store, and listing a path or glob at
/// plan time with errors attributed to the node's `path` setting.
enum FileNodeSupport {
    static let connection = Field<ConnectionName?>(
        "connection", summary: "A connection whose files to use (an s3 bucket; an http connection for https:// paths that need headers or authentication); the local files when absent.",
        example: "lake")

    /// The files a node reads: at least one, each inside the workspace for local stores.
    static func list(_ location: FileLocation, settings: Settings, path field: Field<String>) async throws(ConfigError) -> [StoredFile] {
        let files: [StoredFile]
        do { files = try await location.store.list(location.path) } catch let error as ConfigError {
            throw error.at(node: settings.node, field: field.name, location: settings.location(of: field))
        } catch let error as NodeError {
            throw settings.error(field, error.message, code: error.code)
        } catch {
            throw settings.error(field, "cannot list \(location.described): \(error)", code: "file_unreadable")
        }
        guard !files.isEmpty else {
            throw settings.error(field, "no file matches \(location.described)", code: "file_not_found")
        }
        return files
    }

    /// A plan-time read failure (the sample) as an error on the `path` setting.
    static func planError<T>(_ error: any Error, settings: Settings, path field: Field<T>) -> ConfigError {
        switch error {
        case let error as ConfigError: error.at(node: settings.node, field: field.name, location: settings.location(of: field))
        case let error as NodeError: settings.error(field, error.message, code: error.code)
        default: settings.error(field, "\(error)", code: "file_unreadable")
        }
    }
}

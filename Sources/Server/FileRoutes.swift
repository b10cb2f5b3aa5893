import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Services

/// `/api/v1/files`: files uploaded into the workspace (`uploads/<user>/…`), for pipelines to read.
enum FileRoutes {
    /// A file in the workspace's uploads.
    struct FileView: APIView {
        var path: String
        var size: Int64
        /// Unix milliseconds.
        var modified: Int64

        init(_ entry: WorkspaceFiles.Entry) {
            path = entry.path
            size = entry.size
            modified = entry.modified
        }
    }

    /// The uploads, and where the caller may upload.
    struct ListView: APIView {
        var files: [FileView]
        /// The caller's own folder (`uploads/<name>/`).
        var home: String
    }

    static let pathParameter = QueryParameter(name: "path", schema: APISchema.string, description: "The file's workspace path: uploads/<user>/<name>.")

    static let endpoints: [Endpoint] = [
        Endpoint(.post, "/api/v1/files", "uploadFile",
                 "Uploads a file (the raw body, streamed to disk) to `path`; members write only under uploads/<their name>/. Replaces a file of the same path once complete.",
                 tag: "files", query: [pathParameter], request: APISchema.binary, status: .created, response: FileView.schema, streamsBody: true) { call in
            guard let path = call.query("path") else { throw APIError.invalid("query parameter 'path' is required", field: "path") }
            var iterator = call.request.body.makeAsyncIterator()
            let entry = try await call.services.files.upload(path, for: try call.caller) {
                guard let buffer = try await iterator.next() else { return nil }
                return Array(buffer.readableBytesView)
            }
            return try .json(FileView(entry), status: .created)
        },
        Endpoint(.get, "/api/v1/files", "listFiles", "Lists uploaded files, optionally under a path prefix.", tag: "files",
                 query: [QueryParameter(name: "prefix", schema: APISchema.string, description: "Only paths starting with this (uploads/ann/).")],
                 response: ListView.schema) { call in
            let caller = try call.caller
            let entries = try await call.services.files.list(prefix: call.query("prefix") ?? "", for: caller)
            return try .json(ListView(files: entries.map(FileView.init), home: WorkspaceFiles.home(of: caller)))
        },
        Endpoint(.delete, "/api/v1/files", "deleteFile", "Deletes an uploaded file; members delete only their own.", tag: "files",
                 query: [pathParameter], status: .noContent, response: nil, errors: [.notFound]) { call in
            guard let path = call.query("path") else { throw APIError.invalid("query parameter 'path' is required", field: "path") }
            try await call.services.files.delete(path, for: try call.caller)
            return .noContent
        },
    ]
}

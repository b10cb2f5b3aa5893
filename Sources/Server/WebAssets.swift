import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// One file of the web UI: its content type and bytes (embedded as base64 by `scripts/embed-web`).
struct WebAsset: Sendable {
    let contentType: String
    let base64: String
}

/// The web UI: `/` is the app shell, `/ui/…` its CSS and ES modules. The files are embedded in the binary (one
/// binary, no build step); with `SLUICE_WEB_DIR` set they are read from that directory instead (UI work).
/// These routes are not part of the API and not in its OpenAPI document.
enum WebAssets {
    /// Decoded once.
    static let files: [String: (contentType: String, bytes: [UInt8])] = embedded.mapValues { ($0.contentType, [UInt8](Data(base64Encoded: $0.base64) ?? Data())) }

    static func add(to router: Router<AppContext>, directory: String? = ProcessInfo.processInfo.environment["SLUICE_WEB_DIR"]) {
        router.get("/") { _, _ in try file("index.html", directory: directory) }
        router.get("/ui/**") { _, context in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            return try file("ui/" + path, directory: directory)
        }
    }

    static func file(_ path: String, directory: String?) throws -> Response {
        guard !path.split(separator: "/").contains(where: { $0 == ".." || $0.hasPrefix(".") }) else { throw HTTPError(.notFound) }
        let found: (contentType: String, bytes: [UInt8])?
        if let directory, let data = FileManager.default.contents(atPath: directory + "/" + path) {
            found = (contentType(path), [UInt8](data))
        } else {
            found = files[path]
        }
        guard let found else { throw HTTPError(.notFound) }
        var headers = HTTPFields()
        headers[.contentType] = found.contentType
        headers[.cacheControl] = "no-cache"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Content-Security-Policy")!] = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: found.bytes)))
    }

    static func contentType(_ path: String) -> String {
        switch (path as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }
}

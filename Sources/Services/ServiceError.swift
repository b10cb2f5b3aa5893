public import Store

/// Why a service refused or failed a request, in terms of the request, not of a protocol: the server maps each
/// kind to an HTTP status (the command line to a message), so statuses stay at the edge.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as the caller must understand it.
    public enum Kind: Sendable {
        /// The request itself is malformed (a bad value, a missing field).
        case invalid
        /// No valid credentials.
        case unauthenticated
        /// Signed in, but not allowed.
        case forbidden
        /// The thing does not exist, or is not shared with the caller (the two are not told apart).
        case notFound
        /// The change conflicts with the current state (a stale revision, the last owner, a disabled trigger).
        case conflict
        /// Well-formed but not valid (a pipeline or trigger definition that does not validate).
        case unprocessable
        /// Too many attempts; `extra["retry_after_seconds"]` says when to try again.
        case tooManyRequests
        /// A body larger than allowed.
        case tooLarge
        /// Another server the request needed (a destination, a database) failed.
        case badGateway
    }

    public var kind: Kind
    public var code: String
    public var message: String
    public var node: String?
    public var field: String?
    /// Extra members of the error (e.g. `current_revision` on a stale save).
    public var extra: [String: JSONValue]

    public init(_ kind: Kind, _ code: String, _ message: String, node: String? = nil, field: String? = nil, extra: [String: JSONValue] = [:]) {
        self.kind = kind
        self.code = code
        self.message = message
        self.node = node
        self.field = field
        self.extra = extra
    }

    public var description: String { "\(code): \(message)" }

    public static func notFound(_ what: String) -> ServiceError { ServiceError(.notFound, "not_found", "\(what) does not exist or is not shared with you") }
    public static func forbidden(_ message: String) -> ServiceError { ServiceError(.forbidden, "forbidden", message) }
    public static func invalid(_ message: String, field: String? = nil) -> ServiceError { ServiceError(.invalid, "invalid_request", message, field: field) }
}

import Foundation
import HTTPTypes
import NodeKit
import Scheduler
import Services
import Store
import Workers

/// An error as the API reports it: an HTTP status and the one error envelope
/// `{"error":{"code","message","node","field"}}`. Statuses are chosen here, at the edge, never in the engine.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var node: String?
    public var field: String?
    /// Extra members of the error object (e.g. `current_revision` on a 409, `problems` on a 422).
    public var extra: [String: JSONValue] = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, node: String? = nil, field: String? = nil, extra: [String: JSONValue] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.node = node
        self.field = field
        self.extra = extra
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    var envelope: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message),
                                          "node": node.map(JSONValue.string) ?? .null, "field": field.map(JSONValue.string) ?? .null]
        for (key, value) in extra { error[key] = value }
        return .object(["error": .object(error)])
    }

    static let unauthenticated = APIError(.unauthorized, "unauthenticated", "sign in first: send Authorization: Bearer <access token or API token>")
    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) does not exist or is not shared with you") }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }
    static func invalid(_ message: String, field: String? = nil) -> APIError { APIError(.badRequest, "invalid_request", message, field: field) }

    /// Maps errors from lower layers to statuses; unknown errors become a 500 that reveals nothing.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ServiceError:
            return APIError(status(of: error.kind), error.code, error.message, node: error.node, field: error.field, extra: error.extra)
        case let error as VaultError:
            switch error.code {
            case .locked, .uninitialized: return APIError(.serviceUnavailable, error.code.rawValue, error.message)
            case .wrongPassword: return APIError(.forbidden, error.code.rawValue, error.message)
            case .alreadyInitialized: return APIError(.conflict, error.code.rawValue, error.message)
            case .weakPassword: return APIError(.badRequest, error.code.rawValue, error.message, field: "password")
            case .tampered: return APIError(.internalServerError, error.code.rawValue, error.message)
            }
        case let error as StoreError:
            switch error.kind {
            case .constraint: return APIError(.conflict, "conflict", "that name is already taken, or the change breaks a reference")
            case .conflict: return APIError(.conflict, "conflict", error.message)
            case .notFound: return APIError(.notFound, "not_found", error.message)
            case .invalid: return APIError(.badRequest, "invalid_request", error.message)
            case .unavailable: return APIError(.serviceUnavailable, "store_unavailable", "the metadata store is unavailable; try again")
            case .internalError: return APIError(.internalServerError, "internal", "the metadata store failed")
            }
        case let error as ConfigError:
            return from(ConfigErrors([error]))
        case let error as TriggerConfigError:
            // A stored trigger whose settings no longer parse (or a poll's refusal): the trigger's to fix, never a 500.
            return APIError(.unprocessableContent, error.code, "the trigger's definition is not valid: \(error.message)", field: error.field)
        case let error as ConnectionForbidden:
            return APIError(.forbidden, "connection_forbidden", error.description, field: "connection",
                            extra: ["connections": .array(error.names.map(JSONValue.string))])
        case let errors as ConfigErrors:
            let first = errors.errors.first
            let problems = JSONValue.array(errors.errors.map(\.json))
            return APIError(.unprocessableContent, first?.code ?? "invalid_pipeline", errors.errors.map(\.description).joined(separator: "\n"),
                            node: first?.node, field: first?.field, extra: ["problems": problems])
        case is DecodingError:
            return APIError(.badRequest, "invalid_json", "the request body does not match the expected JSON: \(describe(error as! DecodingError))")
        default:
            return APIError(.internalServerError, "internal", "internal error")
        }
    }

    /// The HTTP status of each kind of service error.
    static func status(of kind: ServiceError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalid: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .unprocessable: .unprocessableContent
        case .tooManyRequests: .tooManyRequests
        case .tooLarge: .contentTooLarge
        case .badGateway: .badGateway
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, _): "missing field '\(key.stringValue.snakeCased)'"
        case let .typeMismatch(type, context): "field '\(context.codingPath.map(\.stringValue.snakeCased).joined(separator: "."))' must be \(type)"
        case let .valueNotFound(_, context): "field '\(context.codingPath.map(\.stringValue.snakeCased).joined(separator: "."))' must not be null"
        case let .dataCorrupted(context) where !context.codingPath.isEmpty:
            "field '\(context.codingPath.map(\.stringValue.snakeCased).joined(separator: "."))' has a value that is not allowed"
        case .dataCorrupted: "the body is not valid JSON"
        @unknown default: "unreadable body"
        }
    }
}

extension ConfigError {
    /// A problem as JSON: code, message, node, field, line, column, expected.
    var json: JSONValue {
        .object(["code": .string(code), "message": .string(message), "node": node.map(JSONValue.string) ?? .null, "field": field.map(JSONValue.string) ?? .null,
                 "line": location.map { .int(Int64($0.line)) } ?? .null, "column": location.map { .int(Int64($0.column)) } ?? .null,
                 "expected": expected.map(JSONValue.string) ?? .null])
    }
}

extension String {
    var snakeCased: String {
        var out = ""
        for c in self {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}

/// Messages for errors that reach the command line.
public enum ServerErrors {
    public static func message(_ error: any Error) -> String {
        switch error {
        case let error as APIError: error.message
        case let error as ServiceError: error.message
        case let error as StoreError: error.message
        case let error as VaultError: error.message
        default: "\(error)"
        }
    }
}

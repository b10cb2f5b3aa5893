import Columnar
import Foundation
import Mustache

/// A text template over a row's columns and the run's parameters, in Mustache syntax: `{{customer_id}}`,
/// sections `{{#vip}}…{{/vip}}`, inverted sections `{{^vip}}…{{/vip}}`. One syntax for every template that
/// takes values from rows (URLs, query values, headers, bodies, and messages).
///
/// Values are escaped for where they go: percent-encoded in URLs, JSON-escaped in JSON bodies, as is in plain
/// text, HTML-escaped in HTML. Triple braces `{{{name}}}` insert a value unescaped.
public struct TextTemplate: Sendable {
    /// Where the rendered text goes, which decides how values are escaped.
    public enum Escaping: String, Sendable {
        case url = "SLUICE_URL", json = "SLUICE_JSON", text = "TEXT", html = "HTML"
    }

    public let source: String
    let template: MustacheTemplate
    /// The plain variables the template names (`{{name}}`, `{{{name}}}`, section names), for checks at plan time.
    public let names: [String]

    private static let registered: Bool = {
        MustacheContentTypes.register(URLEscaping(), named: Escaping.url.rawValue)
        MustacheContentTypes.register(JSONEscaping(), named: Escaping.json.rawValue)
        return true
    }()

    public init(_ source: String, escaping: Escaping) throws(TemplateError) {
        _ = Self.registered
        self.source = source
        do { template = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(escaping.rawValue)}}" + source) } catch {
            throw TemplateError(message: "not a valid template: \(error)")
        }
        names = Self.variables(in: source)
    }

    /// A template that does not compile, with the parser's reason.
    public struct TemplateError: Error { public let message: String }

    /// The text with `values` filled in.
    public func render(_ values: [String: Any]) -> String { template.render(values) }

    /// Whether the template has any tag at all (plain text renders once, not per row).
    public var isConstant: Bool { !source.contains("{{") }

    /// Row `i` of `batch` as template values: text, numbers and booleans as such; nulls left out (they render empty).
    public static func values(of batch: RecordBatch, row i: Int) -> [String: Any] {
        var values: [String: Any] = [:]
        for (k, field) in batch.schema.fields.enumerated() {
            switch batch.columns[k].value(at: i) {
            case .null: continue
            case let .bool(b): values[field.name] = b
            case let .int(n): values[field.name] = n
            case let .float(d): values[field.name] = d
            case let .string(s): values[field.name] = s
            case let other: values[field.name] = other.description
            }
        }
        return values
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (a value cannot add a path segment or a query parameter).
    public static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
    }

    /// The variables a template source names, in order of first use.
    public static func variables(in source: String) -> [String] {
        var names: [String] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            var tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            if tag.hasPrefix("{") { tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces) }
            if let first = tag.first, "!>%/=&".contains(first) { continue }
            if let first = tag.first, "#^".contains(first) { tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces) }
            let name = tag.split(separator: ".").first.map(String.init) ?? tag
            if !name.isEmpty, !names.contains(name) { names.append(name) }
        }
        return names
    }
}

/// Percent-encodes values inserted into URLs (a value cannot add a path segment or a query parameter).
struct URLEscaping: MustacheContentType {
    func escapeText(_ text: String) -> String { TextTemplate.percentEncoded(text) }
}

/// Escapes values inserted into JSON strings.
struct JSONEscaping: MustacheContentType {
    func escapeText(_ text: String) -> String { String(JSONText.quoted(text).dropFirst().dropLast()) }
}

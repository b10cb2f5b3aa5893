import Foundation
import Mustache
import NodeKit

/// A text template over a row's columns and the run's parameters, in Mustache syntax: `{{customer_id}}`,
/// sections `{{#vip}}…{{/vip}}`, inverted sections `{{^vip}}…{{/vip}}`. One syntax for every template that
/// takes values from rows (URLs, query values, headers, bodies, and messages).
///
/// Values are escaped for where they go: percent-encoded in URLs, JSON-escaped in JSON bodies, as is in plain
/// text. Triple braces `{{{name}}}` insert a value unescaped.
struct TextTemplate: Sendable {
    /// Where the rendered text goes, which decides how values are escaped.
    enum Escaping: String, Sendable {
        case url = "SLUICE_URL", json = "SLUICE_JSON", text = "TEXT"
    }

    let source: String
    let template: MustacheTemplate
    /// The plain variables the template names (`{{name}}`, `{{{name}}}`, section names), for checks at plan time.
    let names: [String]

    private static let registered: Bool = {
        MustacheContentTypes.register(URLEscaping(), named: Escaping.url.rawValue)
        MustacheContentTypes.register(JSONEscaping(), named: Escaping.json.rawValue)
        return true
    }()

    init(_ source: String, escaping: Escaping) throws(TemplateError) {
        _ = Self.registered
        self.source = source
        do { template = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(escaping.rawValue)}}" + source) } catch {
            throw TemplateError(message: "not a valid template: \(error)")
        }
        names = Self.variables(in: source)
    }

    struct TemplateError: Error { let message: String }

    /// The text with `values` filled in.
    func render(_ values: [String: Any]) -> String { template.render(values) }

    /// Whether the template has any tag at all (plain text renders once, not per row).
    var isConstant: Bool { !source.contains("{{") }

    static func variables(in source: String) -> [String] {
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
    func escapeText(_ text: String) -> String { HTTPEndpoint.encode(text) }
}

/// Escapes values inserted into JSON strings.
struct JSONEscaping: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var out = ""
        JSONTree.quote(text, into: &out)
        return String(out.dropFirst().dropLast())
    }
}

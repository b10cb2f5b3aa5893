import Columnar
import NodeKit

/// The templates of a per-row request (path, query values, headers, body), checked against the input columns
/// and rendered for one row at a time.
struct RowTemplates: Sendable {
    let path: TextTemplate
    let query: [(name: String, template: TextTemplate)]
    let headers: [(name: String, template: TextTemplate)]
    let body: TextTemplate?

    /// Compiles the templates; a syntax error names its field.
    init(settings: Settings, path: Field<String>, query: Field<NamedValues<String>>, headers: Field<NamedValues<String>>, body: Field<String?>,
         bodyEscaping: TextTemplate.Escaping) throws(ConfigError) {
        func compile<T>(_ text: String, _ field: Field<T>, name: String? = nil, _ escaping: TextTemplate.Escaping) throws(ConfigError) -> TextTemplate {
            do { return try TextTemplate(text, escaping: escaping) } catch {
                throw ConfigError(code: "invalid_template", message: error.message, location: settings.location(of: field), node: settings.node,
                                  field: name.map { "\(field.name).\($0)" } ?? field.name)
            }
        }
        self.path = try compile(try settings[path], path, .url)
        var compiledQuery: [(name: String, template: TextTemplate)] = []
        for entry in try settings[query].entries { compiledQuery.append((entry.name, try compile(entry.value, query, name: entry.name, .text))) }
        self.query = compiledQuery
        var compiledHeaders: [(name: String, template: TextTemplate)] = []
        for entry in try settings[headers].entries { compiledHeaders.append((entry.name, try compile(entry.value, headers, name: entry.name, .text))) }
        self.headers = compiledHeaders
        self.body = try settings[body].map { text throws(ConfigError) in try compile(text, body, bodyEscaping) }
    }

    /// Every name the templates use must be an input column: a typo is a plan error, not empty text at run time.
    func check(against schema: Schema, settings: Settings) throws(ConfigError) {
        let all: [(String, TextTemplate)] = [("path", path)] + query.map { ("query.\($0.name)", $0.template) } + headers.map { ("headers.\($0.name)", $0.template) }
            + (body.map { [("body", $0)] } ?? [])
        for (field, template) in all {
            for name in template.names where schema.index(of: name) == nil {
                throw ConfigError(code: "unknown_column", message: "the template uses {{\(name)}}, which is not an input column; the columns are: \(schema.fields.map(\.name).joined(separator: ", "))",
                                  location: settings.raw.location, node: settings.node, field: field)
            }
        }
    }
}

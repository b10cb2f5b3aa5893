public import Columnar
import Expressions

/// Resolves a run's parameter values from declarations, defaults and `--param name=value` overrides.
public enum ParameterValues {
    /// A value written in the document (a default), converted to the declared type.
    static func value(from setting: Setting, as type: DataType) throws(ExpressionError) -> Value {
        switch setting.kind {
        case .null: return .null
        case let .bool(b): return try ValueText.convert(.bool(b), to: type)
        case let .int(i): return try ValueText.convert(.int(i), to: type)
        case let .double(d): return try ValueText.convert(.float(d), to: type)
        case let .string(s): return try ValueText.parse(s, as: type)
        default: throw ExpressionError(code: "invalid_value", message: "a parameter value must be a scalar", span: nil, source: "")
        }
    }

    /// Every declared parameter's value: the override if given, else the default. Reports every problem.
    public static func resolve(_ declarations: [ParameterDeclaration], overrides: [String: String]) throws(ConfigErrors) -> [String: Value] {
        var values: [String: Value] = [:]
        var errors: [ConfigError] = []
        for name in overrides.keys.sorted() where !declarations.contains(where: { $0.name == name }) {
            let known = declarations.map(\.name).joined(separator: ", ")
            errors.append(ConfigError(code: "unknown_parameter", message: "unknown parameter '\(name)'; the pipeline declares: \(known.isEmpty ? "(none)" : known)", field: "parameters.\(name)"))
        }
        for declaration in declarations {
            if let text = overrides[declaration.name] {
                do { values[declaration.name] = try ValueText.parse(text, as: declaration.type) } catch {
                    errors.append(ConfigError(code: "invalid_value", message: "parameter '\(declaration.name)': \(error.message)", location: declaration.location,
                                              field: "parameters.\(declaration.name)", expected: declaration.type.description))
                }
            } else if let value = declaration.defaultValue {
                values[declaration.name] = value
            } else {
                errors.append(ConfigError(code: "missing_parameter", message: "parameter '\(declaration.name)' has no default; pass --param \(declaration.name)=VALUE",
                                          location: declaration.location, field: "parameters.\(declaration.name)", expected: declaration.type.description))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return values
    }
}

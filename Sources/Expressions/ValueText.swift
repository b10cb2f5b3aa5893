public import Columnar

/// Public text-to-value conversion with PostgreSQL input rules, for parameters and settings.
public enum ValueText {
    /// Parses `text` as a value of `type` (e.g. `"2024-01-01"` as a date); the message says what was wrong.
    public static func parse(_ text: String, as type: DataType) throws(ExpressionError) -> Value {
        do { return try Casts.parse(text, as: type) } catch {
            throw ExpressionError(code: error.code, message: error.message, span: nil, source: text)
        }
    }

    /// Converts a value to `type` (e.g. an integer parameter declared as float64).
    public static func convert(_ value: Value, to type: DataType) throws(ExpressionError) -> Value {
        do { return try Casts.cast(value, to: type) } catch {
            throw ExpressionError(code: error.code, message: error.message, span: nil, source: value.description)
        }
    }
}

public import Columnar

/// Writes JSON text byte by byte (no Foundation round trip): used by jsonl.write and the reject store.
public enum JSONText {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `bytes` as a quoted, escaped JSON string.
    @inline(__always)
    public static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString($0, to: &out) }
    }

    /// Appends a scalar value: numbers and booleans bare, json verbatim, NaN/Infinity as strings, the rest as strings.
    public static func appendValue(_ value: Value, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: Array("null".utf8))
        case let .bool(b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case let .int(i): out.append(contentsOf: Array(String(i).utf8))
        case let .float(d):
            if d.isFinite { out.append(contentsOf: Array(formatDouble(d).utf8)) } else { appendString(formatDouble(d), to: &out) }
        case let .decimal(v, scale): out.append(contentsOf: Array(formatDecimal(v, scale: scale).utf8))
        case let .json(j): out.append(contentsOf: Array((j.isEmpty ? "null" : j).utf8))
        default: appendString(value.description, to: &out)
        }
    }

    /// A Swift string as JSON string text, quotes included.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `{"k": v, …}` for named values in order.
    public static func object(_ fields: [(String, Value)]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, field) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendString(field.0, to: &out)
            out.append(UInt8(ascii: ":"))
            appendValue(field.1, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

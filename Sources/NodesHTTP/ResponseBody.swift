import NodeKit

/// How a response body holds its records.
enum BodyFormat: String, Choice {
    /// From the Content-Type: JSON Lines (`application/x-ndjson`, `application/jsonl`), CSV (`text/csv`), else JSON.
    case auto, json, jsonl, csv

    /// The format to read a body with.
    func resolved(contentType: String?) -> BodyFormat {
        guard self == .auto else { return self }
        let type = (contentType ?? "").lowercased()
        if type.contains("ndjson") || type.contains("jsonl") || type.contains("json-seq") { return .jsonl }
        if type.contains("csv") { return .csv }
        return .json
    }
}

/// The records of one response body, and the parsed document (JSON bodies) for pagination to read from.
struct ResponseRecords {
    var records: [JSONTree]
    var document: JSONTree?

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Reads `body` as `format`; for JSON, the records are the array at `path` (the body itself when it is an
    /// array and no path is given; an object there is one record; nothing there is no records).
    static func read(_ body: [UInt8], format: BodyFormat, path: [String]) throws(Failure) -> ResponseRecords {
        switch format {
        case .csv:
            return ResponseRecords(records: try CSVBody.records(body), document: nil)
        case .jsonl:
            var records: [JSONTree] = []
            var line = 1
            for slice in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                defer { line += 1 }
                if slice.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                do { records.append(try JSONTreeParser.parse(slice)) } catch { throw Failure(message: "line \(line) of the JSON Lines body: \(error.message)") }
            }
            return ResponseRecords(records: records, document: nil)
        case .json, .auto:
            if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return ResponseRecords(records: [], document: nil) }
            let document: JSONTree
            do { document = try JSONTreeParser.parse(body) } catch { throw Failure(message: "the body is not JSON: \(error.message)") }
            guard let found = document.at(path) else { return ResponseRecords(records: [], document: document) }
            switch found {
            case let .array(items): return ResponseRecords(records: items, document: document)
            case .null: return ResponseRecords(records: [], document: document)
            case .object: return ResponseRecords(records: [found], document: document)
            default:
                throw Failure(message: path.isEmpty ? "the body is a single \(found.text.prefix(40)), not records; set 'records' to the path of the array"
                                                    : "'\(path.joined(separator: "."))' holds \(found.text.prefix(40)), not an array of records")
            }
        }
    }
}

/// CSV bodies (RFC 4180: quoted fields, doubled quotes, CRLF or LF): the first row names the columns; cells
/// become integers, numbers or booleans when they are written as such, empty cells null, the rest text.
enum CSVBody {
    static func records(_ body: [UInt8]) throws(ResponseRecords.Failure) -> [JSONTree] {
        let rows = try parse(body)
        guard let header = rows.first else { return [] }
        return rows.dropFirst().filter { !($0.count == 1 && $0[0].isEmpty) }.map { row in
            .object(header.enumerated().map { i, name in (name, i < row.count ? cell(row[i]) : .null) })
        }
    }

    static func cell(_ text: String) -> JSONTree {
        if text.isEmpty { return .null }
        if let i = Int64(text) { return .int(i) }
        if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let d = Double(text), d.isFinite { return .double(d) }
        if text == "true" || text == "false" { return .bool(text == "true") }
        return .string(text)
    }

    static func parse(_ body: [UInt8]) throws(ResponseRecords.Failure) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var i = body.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while i < body.count {
            let c = body[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < body.count, body[i + 1] == UInt8(ascii: "\"") { field.append(c); i += 2; continue }
                    quoted = false
                } else {
                    field.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "\""): quoted = true
            case UInt8(ascii: ","): row.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
            case UInt8(ascii: "\n"):
                row.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                rows.append(row)
                row = []
            case UInt8(ascii: "\r"): break
            default: field.append(c)
            }
            i += 1
        }
        if quoted { throw ResponseRecords.Failure(message: "the CSV body ends inside a quoted field") }
        if !field.isEmpty || !row.isEmpty { row.append(String(decoding: field, as: UTF8.self)); rows.append(row) }
        return rows
    }
}

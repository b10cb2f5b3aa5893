import Foundation
import NodeKit

/// How an API splits its records over pages.
enum PaginationStyle: String, Choice {
    /// One request.
    case none
    /// `?page=N&per_page=M`: pages counted from `startPage`.
    case page
    /// `?offset=N&limit=M`: the offset advances by the records received.
    case offset
    /// The next page's cursor is in the body (`cursorPath`) and goes into a query parameter (`cursorParam`).
    case cursor
    /// RFC 8288 `Link: <…>; rel="next"` headers.
    case link
    /// The body holds the next page's URL (`nextUrlPath`).
    case nextUrl
}

/// The `pagination` setting: a style and its parameters, e.g. `{style: cursor, cursorPath: meta.next, cursorParam: cursor}`.
struct Pagination: SettingDecodable, Equatable {
    var style: PaginationStyle = .none
    var pageParam = "page"
    var sizeParam: String?
    var pageSize: Int?
    var startPage = 1
    var offsetParam = "offset"
    var limitParam = "limit"
    var cursorPath: [String] = []
    var cursorParam = "cursor"
    var nextUrlPath: [String] = []
    /// Path of the total number of records in the body (page and offset styles stop when all were read).
    var totalPath: [String]?

    static let keys: [PaginationStyle: [String]] = [
        .none: [], .page: ["pageParam", "sizeParam", "pageSize", "startPage", "totalPath"], .offset: ["offsetParam", "limitParam", "pageSize", "totalPath"],
        .cursor: ["cursorPath", "cursorParam"], .link: [], .nextUrl: ["nextUrlPath"],
    ]

    static var fieldKind: FieldKind { .map(.string) }
    static var valueWhenMissing: Pagination? { Pagination() }

    init() {}

    init(setting: Setting, field: String) throws(ConfigError) {
        if let text = setting.scalarText, let style = PaginationStyle(rawValue: text) { self.style = style; return }
        guard let entries = setting.entries else {
            throw ConfigError(code: "invalid_value", message: "pagination is a style (cursor) or a mapping ({style: cursor, cursorPath: next})", location: setting.location, field: field)
        }
        guard let styleText = setting["style"]?.scalarText, let style = PaginationStyle(rawValue: styleText) else {
            throw ConfigError(code: "invalid_value", message: "pagination needs a style", location: setting.location, field: "\(field).style",
                              expected: PaginationStyle.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.style = style
        let allowed = Self.keys[style] ?? []
        for entry in entries where entry.key != "style" {
            guard allowed.contains(entry.key) else {
                throw ConfigError(code: "unknown_key", message: "\(style.rawValue) pagination has no setting '\(entry.key)'", location: entry.keyLocation,
                                  field: "\(field).\(entry.key)", expected: allowed.isEmpty ? "no other settings" : "one of: \(allowed.joined(separator: ", "))")
            }
            let name = "\(field).\(entry.key)"
            switch entry.key {
            case "pageParam": pageParam = try String(setting: entry.value, field: name)
            case "sizeParam": sizeParam = try String(setting: entry.value, field: name)
            case "pageSize":
                // A number, or its text (the editor's map fields send text).
                guard let size = entry.value.scalarText.flatMap({ Int($0) }), (1...100_000).contains(size) else {
                    throw ConfigError(code: "invalid_value", message: "pageSize must be a number from 1 to 100000", location: entry.value.location, field: name)
                }
                pageSize = size
            case "startPage":
                guard let start = entry.value.scalarText.flatMap({ Int($0) }) else {
                    throw ConfigError(code: "invalid_value", message: "startPage must be a number", location: entry.value.location, field: name)
                }
                startPage = start
            case "offsetParam": offsetParam = try String(setting: entry.value, field: name)
            case "limitParam": limitParam = try String(setting: entry.value, field: name)
            case "cursorPath": cursorPath = Self.path(try String(setting: entry.value, field: name))
            case "cursorParam": cursorParam = try String(setting: entry.value, field: name)
            case "nextUrlPath": nextUrlPath = Self.path(try String(setting: entry.value, field: name))
            case "totalPath": totalPath = Self.path(try String(setting: entry.value, field: name))
            default: break
            }
        }
        if style == .cursor, cursorPath.isEmpty {
            throw ConfigError(code: "missing_field", message: "cursor pagination needs cursorPath: where the body holds the next cursor", location: setting.location, field: "\(field).cursorPath")
        }
        if style == .nextUrl, nextUrlPath.isEmpty {
            throw ConfigError(code: "missing_field", message: "nextUrl pagination needs nextUrlPath: where the body holds the next page's URL", location: setting.location,
                              field: "\(field).nextUrlPath")
        }
        if style == .offset, pageSize == nil {
            throw ConfigError(code: "missing_field", message: "offset pagination needs pageSize (sent as \(limitParam))", location: setting.location, field: "\(field).pageSize")
        }
    }

    static func describe(_ value: Pagination) -> String { value.style.rawValue }

    /// `data.items` → ["data", "items"]; empty text → [].
    static func path(_ text: String) -> [String] { text.split(separator: ".").map(String.init) }
}

/// Walks the pages of one read: says what to add to the first request and, after each response, where the
/// next page is, or that there is none. Pure: no I/O.
struct Pager {
    let pagination: Pagination
    let maxPages: Int
    private(set) var pages = 0
    private var page: Int
    private var offset = 0
    private var received = 0
    private var lastCursor: String?

    /// The next request: query parameters to set on the original URL, or a whole URL (link and nextUrl styles).
    enum Next: Equatable {
        case query([String: String])
        case url(String)
    }

    init(_ pagination: Pagination, maxPages: Int) {
        self.pagination = pagination
        self.maxPages = maxPages
        page = pagination.startPage
    }

    /// Parameters for the first request.
    var first: [String: String] {
        switch pagination.style {
        case .page:
            var query = [pagination.pageParam: String(page)]
            if let size = pagination.pageSize, let name = pagination.sizeParam { query[name] = String(size) }
            return query
        case .offset:
            return [pagination.offsetParam: "0", pagination.limitParam: String(pagination.pageSize ?? 100)]
        default:
            return [:]
        }
    }

    /// Whether `maxPages` stopped the read (there may have been more).
    private(set) var stoppedAtLimit = false

    /// After a page with `records` records: the next request, or nil when this was the last page.
    mutating func next(records: Int, document: JSONTree?, linkHeader: String?, currentURL: String) -> Next? {
        pages += 1
        received += records
        let next = proposed(records: records, document: document, linkHeader: linkHeader, currentURL: currentURL)
        if next != nil, pages >= maxPages { stoppedAtLimit = true; return nil }
        return next
    }

    private mutating func proposed(records: Int, document: JSONTree?, linkHeader: String?, currentURL: String) -> Next? {
        switch pagination.style {
        case .none:
            return nil
        case .page, .offset:
            guard records > 0 else { return nil }
            if let size = pagination.pageSize, records < size { return nil }
            if let path = pagination.totalPath, let total = document?.at(path)?.scalarText.flatMap({ Int($0) }), received >= total { return nil }
            if pagination.style == .page {
                page += 1
                var query = [pagination.pageParam: String(page)]
                if let size = pagination.pageSize, let name = pagination.sizeParam { query[name] = String(size) }
                return .query(query)
            }
            offset += records
            return .query([pagination.offsetParam: String(offset), pagination.limitParam: String(pagination.pageSize ?? 100)])
        case .cursor:
            guard let cursor = document?.at(pagination.cursorPath)?.scalarText, !cursor.isEmpty, cursor != lastCursor else { return nil }
            lastCursor = cursor
            return .query([pagination.cursorParam: cursor])
        case .link:
            guard let target = linkHeader.flatMap(Self.nextLink) else { return nil }
            return .url(URL(string: target, relativeTo: URL(string: currentURL))?.absoluteString ?? target)
        case .nextUrl:
            guard let target = document?.at(pagination.nextUrlPath)?.scalarText, !target.isEmpty else { return nil }
            return .url(URL(string: target, relativeTo: URL(string: currentURL))?.absoluteString ?? target)
        }
    }

    /// The `rel="next"` target of an RFC 8288 Link header (several links, comma separated; rel may list several relations).
    static func nextLink(_ header: String) -> String? {
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let target = String(rest[rest.index(after: open)..<close])
            let afterTarget = rest[rest.index(after: close)...]
            let end = afterTarget.firstIndex(of: "<") ?? afterTarget.endIndex
            let parameters = afterTarget[..<end]
            for parameter in parameters.split(separator: ";") {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == "rel" else { continue }
                let relations = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\",")).lowercased().split(separator: " ")
                if relations.contains("next") { return target }
            }
            rest = afterTarget[end...]
        }
        return nil
    }
}

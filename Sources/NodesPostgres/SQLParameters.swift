/// Rewrites `:name` parameters in SQL outside strings, quoted names, comments and `::` casts: to
/// PostgreSQL's `$1`, `$2`… for bound parameters, or to literals where nothing can be bound (COPY).
enum SQLParameters {
    /// The SQL with `$n` placeholders, and the names in `$n` order.
    static func positional(_ sql: String) -> (sql: String, names: [String]) {
        rewrite(sql) { _, position in "$\(position)" }
    }

    /// The 1-based character position in `sql` (as written, with `:name`s) of `position` in its positional form.
    static func originalPosition(_ position: Int, in sql: String) -> Int {
        guard sql.contains(":") else { return position }
        var mapped = 0
        var original = 0
        // Walk both texts: each `:name` in the original is `$n` in the rewritten one.
        let chars = Array(sql)
        var names: [String] = []
        var i = 0
        while i < chars.count, mapped < position - 1 {
            if chars[i] == ":", i + 1 < chars.count, chars[i + 1] == ":" { i += 2; mapped += 2; original = i; continue }
            if chars[i] == ":", i + 1 < chars.count, chars[i + 1].isLetter || chars[i + 1] == "_", !inQuoteOrComment(chars, i) {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                let name = String(chars[(i + 1)..<j])
                if !names.contains(name) { names.append(name) }
                mapped += 1 + String(names.firstIndex(of: name)! + 1).count
                i = j
                original = i
                continue
            }
            i += 1
            mapped += 1
            original = i
        }
        return original + 1
    }

    private static func inQuoteOrComment(_ chars: [Character], _ at: Int) -> Bool {
        var i = 0
        while i < at {
            switch chars[i] {
            case "'", "\"":
                let quote = chars[i]
                var j = i + 1
                while j < chars.count, chars[j] != quote { j += 1 }
                if j >= at { return true }
                i = j + 1
            case "-" where i + 1 < chars.count && chars[i + 1] == "-":
                var j = i
                while j < chars.count, chars[j] != "\n" { j += 1 }
                if j >= at { return true }
                i = j
            default:
                i += 1
            }
        }
        return false
    }

    /// The SQL with each parameter replaced by `literal(name)` (a quoted SQL literal).
    static func inlined(_ sql: String, _ literal: (String) -> String) -> String {
        rewrite(sql) { name, _ in literal(name) }.sql
    }

    /// The SQL with each `:name` replaced by `replacement(name, position)`, where position numbers the
    /// distinct names from 1 in order of first use; and those names.
    static func rewrite(_ sql: String, _ replacement: (String, Int) -> String) -> (sql: String, names: [String]) {
        let chars = Array(sql)
        var out = ""
        var names: [String] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "'", "\"":
                var j = i + 1
                while j < chars.count {
                    if chars[j] == c {
                        if j + 1 < chars.count, chars[j + 1] == c { j += 2; continue }
                        break
                    }
                    j += 1
                }
                out += String(chars[i..<min(j + 1, chars.count)])
                i = j + 1
            case "-" where i + 1 < chars.count && chars[i + 1] == "-":
                var j = i
                while j < chars.count, chars[j] != "\n" { j += 1 }
                out += String(chars[i..<j])
                i = j
            case ":" where i + 1 < chars.count && chars[i + 1] == ":":
                out += "::"
                i += 2
            case ":" where i + 1 < chars.count && (chars[i + 1].isLetter || chars[i + 1] == "_"):
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                let name = String(chars[(i + 1)..<j])
                if let index = names.firstIndex(of: name) { out += replacement(name, index + 1) } else {
                    names.append(name)
                    out += replacement(name, names.count)
                }
                i = j
            default:
                out.append(c)
                i += 1
            }
        }
        return (out, names)
    }
}

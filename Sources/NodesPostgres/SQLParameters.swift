/// Rewrites `:name` parameters in SQL to PostgreSQL's `$1`, `$2`… outside strings, quoted names,
/// comments and `::` casts. Returns the rewritten SQL and the names in `$n` order.
enum SQLParameters {
    static func positional(_ sql: String) -> (sql: String, names: [String]) {
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
                if let index = names.firstIndex(of: name) { out += "$\(index + 1)" } else {
                    names.append(name)
                    out += "$\(names.count)"
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

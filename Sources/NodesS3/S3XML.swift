import NodeKit

/// Reads the few elements Sluice needs from S3's XML replies (list results, upload ids, errors): the text of
/// `<Tag>…</Tag>` elements, with XML entities decoded. S3's replies are flat and well-formed; anything missing
/// reads as nil or empty, which callers report.
enum S3XML {
    /// The inner text of every `<tag>` element (attributes allowed), in order.
    static func values(_ tag: String, in xml: Substring) -> [String] {
        elements(tag, in: xml).map { decode($0) }
    }

    /// The first `<tag>` element's decoded text.
    static func value(_ tag: String, in xml: Substring) -> String? {
        elements(tag, in: xml).first.map { decode($0) }
    }

    /// The raw inner text of every `<tag>` element.
    static func elements(_ tag: String, in xml: Substring) -> [Substring] {
        var found: [Substring] = []
        let close = "</\(tag)>"
        var rest = xml[...]
        while let open = rest.range(of: "<\(tag)") {
            guard let after = rest[open.upperBound...].first, after == ">" || after == " " else {
                rest = rest[open.upperBound...]
                continue
            }
            guard let end = rest[open.upperBound...].firstIndex(of: ">") else { break }
            if rest[rest.index(before: end)] == "/" {
                found.append("")
                rest = rest[rest.index(after: end)...]
                continue
            }
            let contentStart = rest.index(after: end)
            guard let closing = rest[contentStart...].range(of: close) else { break }
            found.append(rest[contentStart..<closing.lowerBound])
            rest = rest[closing.upperBound...]
        }
        return found
    }

    /// Decodes `&amp; &lt; &gt; &quot; &apos;` and numeric references.
    static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == "&", let semi = text[i...].firstIndex(of: ";"), text.distance(from: i, to: semi) <= 10 else {
                out.append(c)
                i = text.index(after: i)
                continue
            }
            let name = text[text.index(after: i)..<semi]
            switch name {
            case "amp": out.append("&")
            case "lt": out.append("<")
            case "gt": out.append(">")
            case "quot": out.append("\"")
            case "apos": out.append("'")
            default:
                let number: UInt32? = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16) : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
                if let number, let scalar = Unicode.Scalar(number) { out.unicodeScalars.append(scalar) } else { out += "&\(name);" }
            }
            i = text.index(after: semi)
        }
        return out
    }

    /// Escapes text for an element's content (keys in a multipart completion).
    static func escape(_ text: String) -> String { MarkupText.escaped(text) }
}

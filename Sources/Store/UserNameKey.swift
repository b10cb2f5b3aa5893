import Foundation

/// The form in which user names are compared: two names with the same key cannot coexist, and a login
/// matches by key when no name matches exactly. Compatibility forms are folded (NFKC: fullwidth `ａ` is `a`),
/// case is ignored, and letters of other scripts that look like Latin ones (Cyrillic `а`, Greek `ο`) count as
/// those, so `admin`, `ADMIN` and a Cyrillic `аdmin` are one name.
public enum UserNameKey {
    /// Look-alikes of Latin letters and digits in the Cyrillic and Greek scripts (lowercase, after NFKC),
    /// after Unicode's confusables table.
    static let lookAlikes: [Character: Character] = [
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
        "ı": "i", "ℓ": "l", "0": "o", "1": "l",
    ]

    /// The comparison key of a name.
    public static func key(_ name: String) -> String {
        let folded = name.precomposedStringWithCompatibilityMapping.lowercased()
        return String(folded.map { lookAlikes[$0] ?? $0 })
    }
}

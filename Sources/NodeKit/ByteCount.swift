import Foundation

/// A size in bytes, written as a number of bytes or with a unit: `256MB`, `64 MB`, `1.5GB`, `512KB` (powers of 1024).
public struct ByteCount: SettingDecodable, Hashable, Comparable {
    public let bytes: Int

    public init(_ bytes: Int) { self.bytes = bytes }

    public static var fieldKind: FieldKind { .string }

    public init(setting: Setting, field: String) throws(ConfigError) {
        if case let .int(n) = setting.kind, n > 0 { self.bytes = Int(n); return }
        guard let text = setting.scalarText, let parsed = Self.parse(text) else {
            throw ConfigError(code: "invalid_value", message: "'\(setting.scalarText ?? setting.kindName)' is not a size", location: setting.location, field: field,
                              expected: "a size such as 256MB, 64 MB, 1GB or a number of bytes")
        }
        self.bytes = parsed
    }

    /// `256MB` → 268435456; nil for anything else (zero and negative sizes too).
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [("TB", 1_099_511_627_776), ("GB", 1_073_741_824), ("MB", 1_048_576), ("KB", 1024), ("B", 1)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number > 0, number * factor < 1e18 else { return nil }
            return Int(number * factor)
        }
        guard let plain = Int(trimmed), plain > 0 else { return nil }
        return plain
    }

    public static func describe(_ value: ByteCount) -> String {
        value.bytes % (1 << 20) == 0 ? "\(value.bytes >> 20)MB" : "\(value.bytes)"
    }

    public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool { lhs.bytes < rhs.bytes }
}

import Columnar
import Foundation
import NodeKit

/// Windows of event time: `size` long, starting every `every` (aligned to the Unix epoch, UTC); tumbling windows
/// have `every == size`. A row at time t belongs to the `size / every` windows whose start s has s ≤ t < s + size.
struct TimeWindow: Sendable, Equatable {
    /// Microseconds.
    let size: Int64
    let every: Int64

    var windowsPerRow: Int { Int(size / every) }

    /// The starts of the windows holding time `t` (microseconds), newest first.
    func starts(of t: Int64) -> some Sequence<Int64> {
        let q = t / every
        let newest = (t % every != 0 && t < 0 ? q - 1 : q) * every
        return (0..<windowsPerRow).lazy.map { newest - Int64($0) * every }
    }

    static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

/// `sliding: {size: 10m, every: 1m}`: the size must be a whole multiple of the step.
struct SlidingWindowSetting: SettingDecodable, Sendable {
    let size: Duration
    let every: Duration

    static var fieldKind: FieldKind { .map(.duration) }

    init(setting: Setting, field: String) throws(ConfigError) {
        let parts = try NamedValues<Duration>(setting: setting, field: field)
        var size: Duration?, every: Duration?
        for entry in parts.entries {
            switch entry.name {
            case "size": size = entry.value
            case "every": every = entry.value
            default:
                throw ConfigError(code: "invalid_value", message: "a sliding window has size and every, not '\(entry.name)'", location: entry.location, field: "\(field).\(entry.name)")
            }
        }
        guard let size, let every else {
            throw ConfigError(code: "missing_field", message: "a sliding window needs size and every, e.g. {size: 10m, every: 1m}", location: setting.location, field: field)
        }
        self.size = size
        self.every = every
    }

    static func describe(_ value: SlidingWindowSetting) -> String { "{size: \(DurationText.format(value.size)), every: \(DurationText.format(value.every))}" }
}

/// The open windows of a time-window node, carried from run to run in Sluice's state (committed by the sinks
/// downstream with their data, like a source's cursor).
struct TimeWindowState: Codable, Sendable {
    /// The newest event time seen so far: windows ending at or before it were emitted.
    var watermark: Int64?
    var windows: [SavedWindow]

    struct SavedWindow: Codable, Sendable {
        var key: [SavedValue]
        var start: Int64
        var counts: [Int64]
        /// Exact sums (of integers and decimals) as decimal text: 128-bit values do not fit JSON numbers.
        var exact: [String]
        var floats: [Double]
        var extremes: [SavedValue]
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: (try? encoder.encode(self)) ?? Data("{\"windows\":[]}".utf8), as: UTF8.self)
    }

    static func parse(_ text: String) -> TimeWindowState? {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try? decoder.decode(TimeWindowState.self, from: Data(text.utf8))
    }
}

/// A `Value` in saved state.
enum SavedValue: Codable, Sendable {
    case null, bool(Bool), int(Int64), float(Double), decimal(Int64, scale: Int), string(String), bytes(Data), date(Int64), timestamp(Int64), json(String)
    /// A decimal past 18 digits, its scaled integer as decimal text.
    case wideDecimal(String, scale: Int)

    init(_ value: Value) {
        switch value {
        case .null: self = .null
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .int(i)
        case let .float(d): self = .float(d)
        case let .decimal(v, scale):
            if let narrow = Int64(exactly: v) { self = .decimal(narrow, scale: scale) } else { self = .wideDecimal(String(v), scale: scale) }
        case let .string(s): self = .string(s)
        case let .bytes(b): self = .bytes(Data(b))
        case let .date(d): self = .date(d)
        case let .timestamp(t): self = .timestamp(t)
        case let .json(j): self = .json(j)
        }
    }

    var value: Value {
        switch self {
        case .null: .null
        case let .bool(b): .bool(b)
        case let .int(i): .int(i)
        case let .float(d): .float(d)
        case let .decimal(v, scale): .decimal(Int128(v), scale: scale)
        case let .wideDecimal(text, scale): Int128(text).map { .decimal($0, scale: scale) } ?? .null
        case let .string(s): .string(s)
        case let .bytes(b): .bytes(Array(b))
        case let .date(d): .date(d)
        case let .timestamp(t): .timestamp(t)
        case let .json(j): .json(j)
        }
    }
}

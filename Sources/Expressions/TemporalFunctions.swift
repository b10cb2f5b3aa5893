import Columnar
import Foundation

/// now, date_trunc, extract, to_timestamp.
enum TemporalFunctions {
    typealias F = FunctionDefinition

    static let truncFields = ["microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century"]
    static let extractFields = ["microseconds", "milliseconds", "second", "minute", "hour", "day", "dow", "isodow", "doy", "week", "month", "quarter", "year", "epoch"]

    static let all: [FunctionDefinition] = [
        F(name: "now", arity: 0...0, strict: true, summary: "The run's start time (one value per run).") { _, env throws(F.ResolveError) in
            let now = env.now
            return .init(argumentTypes: [], returnType: .timestamp) { (_: [Value]) throws(RowFailure) -> Value in .timestamp(now) }
        },
        F(name: "date_trunc", arity: 2...2, strict: true, summary: "date_trunc('day', ts): truncates a timestamp to a unit.") { args, _ throws(F.ResolveError) in
            let field = try F.constantText(args, 0, "a unit such as 'day'")
            guard truncFields.contains(field) else {
                throw F.ResolveError(code: "invalid_argument", message: "unknown unit '\(field)'; expected one of \(truncFields.joined(separator: ", "))", argument: 0)
            }
            try F.requireType(args, 1, { $0 == .timestamp || $0 == .date }, "a timestamp or date")
            return .init(argumentTypes: [.string, .timestamp], returnType: .timestamp) { (v: [Value]) throws(RowFailure) -> Value in
                guard case let .timestamp(t) = v[1] else { return .null }
                return .timestamp(truncate(t, to: field))
            }
        },
        F(name: "extract", arity: 2...2, strict: true, summary: "EXTRACT(field FROM ts): a part of a date or timestamp; second and epoch are float64.") { args, _ throws(F.ResolveError) in
            let field = try F.constantText(args, 0, "a field such as 'year'")
            guard extractFields.contains(field) else {
                throw F.ResolveError(code: "invalid_argument", message: "unknown field '\(field)'; expected one of \(extractFields.joined(separator: ", "))", argument: 0)
            }
            try F.requireType(args, 1, { $0 == .timestamp || $0 == .date }, "a timestamp or date")
            let isFloat = field == "second" || field == "epoch"
            return .init(argumentTypes: [.string, .timestamp], returnType: isFloat ? .float64 : .int64) { (v: [Value]) throws(RowFailure) -> Value in
                guard case let .timestamp(t) = v[1] else { return .null }
                return extract(field, from: t)
            }
        },
        F(name: "to_timestamp", arity: 1...2, strict: true, summary: "to_timestamp(epoch_seconds) or to_timestamp(text[, format]) with YYYY MM DD HH24 HH12 MI SS MS US and AM/PM.") { args, _ throws(F.ResolveError) in
            if args.count == 1, args[0].type.isNumeric {
                return .init(argumentTypes: [.float64], returnType: .timestamp) { (v: [Value]) throws(RowFailure) -> Value in
                    let seconds = F.double(v[0])
                    guard seconds.isFinite, abs(seconds) < 9.2e12 else { throw .outOfRange("timestamp") }
                    return .timestamp(Int64((seconds * 1_000_000).rounded()))
                }
            }
            try F.requireType(args, 0, { $0 == .string }, "a string or a number of seconds")
            if args.count == 1 {
                return .init(argumentTypes: [.string], returnType: .timestamp) { (v: [Value]) throws(RowFailure) -> Value in
                    try Casts.parse(F.text(v[0]), as: .timestamp)
                }
            }
            guard case let .string(format)? = args[1].constantValue else {
                throw F.ResolveError(code: "invalid_argument", message: "the format must be a constant string", argument: 1)
            }
            let pattern = TimestampFormat(format)
            return .init(argumentTypes: [.string, .string], returnType: .timestamp) { (v: [Value]) throws(RowFailure) -> Value in
                guard let t = pattern.parse(F.text(v[0])) else {
                    throw RowFailure(code: "invalid_cast", message: "\"\(F.text(v[0]))\" does not match format \"\(format)\"")
                }
                return .timestamp(t)
            }
        },
    ]

    static func truncate(_ t: Int64, to field: String) -> Int64 {
        let day = floorDiv(t, CivilTime.microsPerDay)
        let (y, m, _) = CivilTime.civil(days: day)
        func unit(_ size: Int64) -> Int64 { floorDiv(t, size) * size }
        switch field {
        case "microseconds": return t
        case "milliseconds": return unit(1000)
        case "second": return unit(1_000_000)
        case "minute": return unit(60_000_000)
        case "hour": return unit(3_600_000_000)
        case "day": return day * CivilTime.microsPerDay
        case "week":
            let weekday = ((day % 7) + 10) % 7 // 0 = Monday (1970-01-01 was a Thursday)
            return (day - weekday) * CivilTime.microsPerDay
        case "month": return CivilTime.days(year: y, month: m, day: 1) * CivilTime.microsPerDay
        case "quarter": return CivilTime.days(year: y, month: (m - 1) / 3 * 3 + 1, day: 1) * CivilTime.microsPerDay
        case "year": return CivilTime.days(year: y, month: 1, day: 1) * CivilTime.microsPerDay
        case "decade": return CivilTime.days(year: floorDiv(y, 10) * 10, month: 1, day: 1) * CivilTime.microsPerDay
        default: return CivilTime.days(year: floorDiv(y - 1, 100) * 100 + 1, month: 1, day: 1) * CivilTime.microsPerDay
        }
    }

    static func extract(_ field: String, from t: Int64) -> Value {
        let day = floorDiv(t, CivilTime.microsPerDay)
        let micros = t - day * CivilTime.microsPerDay
        let (y, m, d) = CivilTime.civil(days: day)
        let isoWeekday = ((day % 7) + 10) % 7 + 1 // 1 = Monday … 7 = Sunday
        switch field {
        case "year": return .int(y)
        case "month": return .int(m)
        case "day": return .int(d)
        case "hour": return .int(micros / 3_600_000_000)
        case "minute": return .int(micros / 60_000_000 % 60)
        case "second": return .float(Double(micros % 60_000_000) / 1_000_000)
        case "milliseconds": return .int(micros % 60_000_000 / 1000)
        case "microseconds": return .int(micros % 60_000_000)
        case "dow": return .int(isoWeekday % 7)
        case "isodow": return .int(isoWeekday)
        case "doy": return .int(day - CivilTime.days(year: y, month: 1, day: 1) + 1)
        case "quarter": return .int((m - 1) / 3 + 1)
        case "epoch": return .float(Double(t) / 1_000_000)
        default: // ISO week number
            let thursday = day - isoWeekday + 4
            let (ty, _, _) = CivilTime.civil(days: thursday)
            return .int((thursday - CivilTime.days(year: ty, month: 1, day: 1)) / 7 + 1)
        }
    }
}

/// A PostgreSQL-style timestamp format (subset): YYYY, MM, DD, HH24, HH12/HH, MI, SS, MS, US, AM/PM; other characters match literally.
struct TimestampFormat: Sendable {
    enum Piece: Sendable { case year, month, day, hour24, hour12, minute, second, millis, micros, meridiem, literal(Character) }
    let pieces: [Piece]

    init(_ format: String) {
        var pieces: [Piece] = []
        var rest = Substring(format)
        let tokens: [(String, Piece)] = [("YYYY", .year), ("HH24", .hour24), ("HH12", .hour12), ("HH", .hour12), ("MM", .month), ("DD", .day),
                                         ("MI", .minute), ("SS", .second), ("MS", .millis), ("US", .micros), ("AM", .meridiem), ("PM", .meridiem)]
        outer: while let c = rest.first {
            for (token, piece) in tokens where rest.uppercased().hasPrefix(token) {
                pieces.append(piece)
                rest = rest.dropFirst(token.count)
                continue outer
            }
            pieces.append(.literal(c))
            rest = rest.dropFirst()
        }
        self.pieces = pieces
    }

    func parse(_ text: String) -> Int64? {
        var chars = Substring(text)
        var y: Int64 = 1970, mo: Int64 = 1, d: Int64 = 1, h: Int64 = 0, mi: Int64 = 0, s: Int64 = 0, frac: Int64 = 0
        var pm: Bool?
        func number(_ maxDigits: Int) -> Int64? {
            let digits = chars.prefix(maxDigits).prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty else { return nil }
            chars = chars.dropFirst(digits.count)
            return Int64(digits)
        }
        for piece in pieces {
            switch piece {
            case .year: guard let v = number(4) else { return nil }; y = v
            case .month: guard let v = number(2) else { return nil }; mo = v
            case .day: guard let v = number(2) else { return nil }; d = v
            case .hour24, .hour12: guard let v = number(2) else { return nil }; h = v
            case .minute: guard let v = number(2) else { return nil }; mi = v
            case .second: guard let v = number(2) else { return nil }; s = v
            case .millis: guard let v = number(3) else { return nil }; frac = v * 1000
            case .micros: guard let v = number(6) else { return nil }; frac = v
            case .meridiem:
                let word = chars.prefix(2).uppercased()
                guard word == "AM" || word == "PM" else { return nil }
                pm = word == "PM"
                chars = chars.dropFirst(2)
            case let .literal(c):
                guard chars.first == c else { return nil }
                chars = chars.dropFirst()
            }
        }
        guard chars.isEmpty, (1...12).contains(mo), d >= 1, d <= CivilTime.daysInMonth(year: y, month: mo), h < 24, mi < 60, s < 61 else { return nil }
        if let pm { h = h % 12 + (pm ? 12 : 0) }
        return CivilTime.days(year: y, month: mo, day: d) * CivilTime.microsPerDay + ((h * 60 + mi) * 60 + s) * 1_000_000 + frac
    }
}

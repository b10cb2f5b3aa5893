import Columnar

/// Writes column values as text bytes into a `TextBuffer`, without building a `String` per cell.
enum ValueFormatting {
    /// The most bytes one non-string cell can take (numbers, dates, timestamps).
    static let maxScalarLength = NumberText.maxLength

    static func writeInt(_ v: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int { NumberText.writeInt(v, to: p) }
    static func writeDouble(_ d: Double, to p: UnsafeMutablePointer<UInt8>) -> Int { NumberText.writeDouble(d, to: p) }

    /// Appends the text of a non-NULL cell that is not a string (numbers, booleans, dates, timestamps, decimals).
    @inline(__always)
    static func appendScalar(_ c: ColumnCursor, _ i: Int, to out: inout TextBuffer) {
        switch c.type {
        case .int64: out.write(maximum: maxScalarLength) { writeInt(c.ints![i], to: $0) }
        case .float64: out.write(maximum: maxScalarLength) { writeDouble(c.doubles![i], to: $0) }
        case .bool:
            let value = c.bools![i]
            out.write(maximum: 5) { p in
                let word: StaticString = value ? "true" : "false"
                p.update(from: word.utf8Start, count: word.utf8CodeUnitCount)
                return word.utf8CodeUnitCount
            }
        case .date: out.write(maximum: CivilTime.maxTimestampLength) { CivilTime.writeDate(days: c.ints![i], to: $0) }
        case .timestamp: out.write(maximum: CivilTime.maxTimestampLength) { CivilTime.writeTimestamp(micros: c.ints![i], to: $0) }
        case let .decimal(_, scale):
            let text = c.wides.map { formatDecimal($0[i], scale: scale) } ?? formatDecimal(c.ints![i], scale: scale)
            out.append(contentsOf: Array(text.utf8))
        case .string, .json, .bytes:
            let bytes = c.bytes(i)
            out.reserve(bytes.count)
            out.append(bytes)
        }
    }
}

import Columnar
import Testing
@testable import NodesFile

@Suite struct ValueFormattingTests {
    static func text(_ d: Double) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ValueFormatting.maxScalarLength) { p in
            let n = ValueFormatting.writeDouble(d, to: p.baseAddress!)
            return String(decoding: UnsafeBufferPointer(rebasing: p[0..<n]), as: UTF8.self)
        }
    }

    @Test func doublesRoundTripAndMatchTheShortestForm() {
        var generator = SystemRandomNumberGenerator()
        var samples: [Double] = [0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1.005, 123.45, 1059.66, 148.14000000000001, 99999999.9999, 1e10 + 0.5, 1e-7, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi]
        for _ in 0..<20_000 {
            samples.append(Double(Int.random(in: -10_000_000...10_000_000, using: &generator)) / 100)
            samples.append(Double.random(in: -1e6...1e6, using: &generator))
            samples.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator)))
        }
        for d in samples where d.isFinite {
            let t = Self.text(d)
            #expect(Double(t) == d, "\(d) wrote \(t)")
            let standard = formatDouble(d)
            if !standard.contains("e"), d != 0 { #expect(t == standard, "\(d): \(t) vs \(standard)") }
        }
        #expect(Self.text(.nan) == "NaN" && Self.text(-.infinity) == "-Infinity")
    }

    @Test func integersAndTimestampsWriteExactly() {
        for v: Int64 in [0, 7, -7, 10, 1_000_000, .max, .min] {
            let t = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { p in
                String(decoding: UnsafeBufferPointer(rebasing: p[0..<ValueFormatting.writeInt(v, to: p.baseAddress!)]), as: UTF8.self)
            }
            #expect(t == String(v))
        }
        for micros: Int64 in [0, -1, 1_700_000_000_123_456, -62_135_596_800_000_000, 253_402_300_799_999_999] {
            var bytes: [UInt8] = []
            CivilTime.appendTimestamp(micros: micros, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == CivilTime.formatTimestamp(micros: micros))
        }
    }
}

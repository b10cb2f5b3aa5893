@testable import NodesTransform
import Testing

/// The radix sort behind sorts on one or two fixed-width keys: the same order as a stable comparison sort, for keys
/// from narrow and full ranges, many ties, one varying byte and none.
@Suite struct RadixSortTests {
    @Test(arguments: ["narrow", "full", "ties", "one byte", "constant"])
    func ordersAsAStableComparisonSort(keys: String) {
        var generator = SystemRandomNumberGenerator()
        let n = 50_000
        var items: [(UInt64, UInt64, Int32)] = []
        for i in 0..<n {
            let (high, low): (UInt64, UInt64) = switch keys {
            case "narrow": (UInt64(1) << 63 | UInt64.random(in: 0..<300_000, using: &generator), 1_700_000_000_000_000 + UInt64.random(in: 0..<(1 << 45), using: &generator))
            case "full": (UInt64.random(in: 0...UInt64.max, using: &generator), UInt64.random(in: 0...UInt64.max, using: &generator))
            case "ties": (UInt64.random(in: 0..<4, using: &generator) << 40, UInt64.random(in: 0..<3, using: &generator))
            case "one byte": (7, UInt64.random(in: 0..<256, using: &generator) << 16)
            default: (42, 42)
            }
            items.append((high, low, Int32(i)))
        }
        // Swift's sort is stable; comparing the row too makes it so whatever the algorithm.
        let expected = items.sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
        var sorted = items
        NormalizedKeys.radixSort(&sorted)
        #expect(sorted.map(\.2) == expected.map(\.2), "\(keys)")
    }
}

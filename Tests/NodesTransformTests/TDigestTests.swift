import Foundation
@testable import NodesTransform
import Testing

/// The t-digest behind profile's percentiles past the exact bound: within a small share of the range of the exact
/// percentiles on skewed and uniform data, exact at the extremes, stable under many merges.
@Suite struct TDigestTests {
    func exact(_ sorted: [Double], _ f: Double) -> Double {
        let position = f * Double(sorted.count - 1)
        let low = Int(position), high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    @Test(arguments: ["uniform", "skewed"])
    func percentilesAreCloseToTheExactOnes(data: String) {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = []
        for _ in 0..<500_000 {
            let u = Double.random(in: 0..<1, using: &generator)
            values.append(data == "uniform" ? u * 1000 : exp(u * 10))   // skewed: a long right tail
        }
        var digest = TDigest()
        for v in values { digest.add(v) }
        let sorted = values.sorted()
        let range = sorted.last! - sorted.first!
        for f in [0.5, 0.9, 0.99] {
            let estimate = digest.quantile(f)!, truth = exact(sorted, f)
            #expect(abs(estimate - truth) <= range * 0.005, "\(data) p\(Int(f * 100)): \(estimate) vs \(truth)")
            #expect(abs(estimate - truth) / truth <= 0.02, "\(data) p\(Int(f * 100)) relative: \(estimate) vs \(truth)")
        }
        #expect(digest.quantile(0) == sorted.first && digest.quantile(1) == sorted.last)
        #expect(digest.means.count <= 400, "bounded: \(digest.means.count) centroids")
    }
}

import Foundation

/// A merging t-digest (Dunning and Ertl): approximate percentiles of any number of values in bounded memory
/// (at most about `2 × compression` centroids), most accurate near the tails, where p99 lives.
///
/// Values are buffered and merged into the centroids in sorted batches; centroids near the middle may hold
/// many values, those near 0 and 1 few, following the k1 scale function.
struct TDigest {
    private(set) var means: [Double] = []
    private(set) var weights: [Double] = []
    private var buffer: [Double] = []
    private(set) var count = 0.0
    private(set) var minimum = Double.infinity
    private(set) var maximum = -Double.infinity
    let compression: Double

    init(compression: Double = 200) {
        self.compression = compression
        buffer.reserveCapacity(Int(compression) * 5)
    }

    mutating func add(_ x: Double) {
        guard !x.isNaN else { return }
        buffer.append(x)
        minimum = min(minimum, x)
        maximum = max(maximum, x)
        if buffer.count >= Int(compression) * 5 { merge() }
    }

    /// Folds the buffered values into the centroids.
    mutating func merge() {
        guard !buffer.isEmpty else { return }
        var incoming = zip(means, weights).map { ($0, $1) } + buffer.map { ($0, 1.0) }
        buffer.removeAll(keepingCapacity: true)
        incoming.sort { $0.0 < $1.0 }
        let total = incoming.reduce(0) { $0 + $1.1 }
        var newMeans: [Double] = [], newWeights: [Double] = []
        var mean = incoming[0].0, weight = incoming[0].1
        var before = 0.0
        var limit = total * quantileLimit(of: k(0) + 1)
        for (x, w) in incoming.dropFirst() {
            if before + weight + w <= limit {
                weight += w
                mean += (x - mean) * w / weight
            } else {
                newMeans.append(mean)
                newWeights.append(weight)
                before += weight
                limit = total * quantileLimit(of: k(before / total) + 1)
                mean = x
                weight = w
            }
        }
        newMeans.append(mean)
        newWeights.append(weight)
        means = newMeans
        weights = newWeights
        count = total
    }

    /// The k1 scale: arcsine-shaped, so centroids are small at the tails.
    private func k(_ q: Double) -> Double { compression / (2 * Double.pi) * asin(2 * min(max(q, 0), 1) - 1) }
    private func quantileLimit(of k: Double) -> Double {
        let q = (sin(min(k * 2 * Double.pi / compression, Double.pi / 2)) + 1) / 2
        return min(q, 1)
    }

    /// The value at `fraction` (0…1), interpolating between centroid centres; nil when empty.
    mutating func quantile(_ fraction: Double) -> Double? {
        merge()
        guard count > 0 else { return nil }
        if means.count == 1 { return means[0] }
        let target = fraction * count
        var cumulative = 0.0
        for i in means.indices {
            let centre = cumulative + weights[i] / 2
            if target < centre {
                if i == 0 {
                    // Between the minimum and the first centroid's centre.
                    let share = weights[0] > 1 ? target / centre : 0
                    return minimum + (means[0] - minimum) * share
                }
                let previousCentre = cumulative - weights[i - 1] / 2
                let share = (target - previousCentre) / (centre - previousCentre)
                return means[i - 1] + (means[i] - means[i - 1]) * share
            }
            cumulative += weights[i]
        }
        let last = means.count - 1
        let lastCentre = count - weights[last] / 2
        let share = weights[last] > 1 ? (target - lastCentre) / (count - lastCentre) : 1
        return means[last] + (maximum - means[last]) * min(max(share, 0), 1)
    }
}

/// Runs an async transform over items with at most `concurrency` in flight, and returns the results in the
/// items' order.
enum InOrder {
    static func map<Item: Sendable, Result: Sendable>(_ items: [Item], concurrency: Int,
                                                      _ transform: @escaping @Sendable (Item) async throws -> Result) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self, returning: [Result].self) { group in
            var results = [Result?](repeating: nil, count: items.count)
            var started = 0
            while started < min(concurrency, items.count) {
                let index = started, item = items[index]
                group.addTask { (index, try await transform(item)) }
                started += 1
            }
            while let (index, result) = try await group.next() {
                results[index] = result
                if started < items.count {
                    let next = started, item = items[next]
                    group.addTask { (next, try await transform(item)) }
                    started += 1
                }
            }
            return results.map { $0! }
        }
    }
}

import Foundation

/// Numbers distinct keys (encoded rows, see `RowKey`) densely from 0, storing every key once in one byte arena with
/// an open-addressing table of positions: about 24 bytes per key beyond its own bytes, where a dictionary of byte
/// arrays costs several times that (millions of keys in a dedupe or a join fit in hundreds of MB, not gigabytes).
struct KeyIndex {
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Key number + 1 per slot (0: empty); the capacity is a power of two, at most half full.
    private var table: [Int32] = [Int32](repeating: 0, count: 1024)

    var count: Int { hashes.count }

    /// The number of `key`, adding it when it is new.
    mutating func insert(_ key: [UInt8]) -> (index: Int, inserted: Bool) {
        let hash = Self.hash(key)
        var slot = Int(hash & UInt64(table.count - 1))
        while true {
            let entry = table[slot]
            if entry == 0 { break }
            let k = Int(entry) - 1
            if hashes[k] == hash && equal(k, key) { return (k, false) }
            slot = (slot + 1) & (table.count - 1)
        }
        let index = hashes.count
        table[slot] = Int32(index + 1)
        hashes.append(hash)
        arena.append(contentsOf: key)
        starts.append(arena.count)
        if hashes.count * 2 > table.count { grow() }
        return (index, true)
    }

    /// The number of `key`, if it was added.
    func find(_ key: [UInt8]) -> Int? {
        let hash = Self.hash(key)
        var slot = Int(hash & UInt64(table.count - 1))
        while true {
            let entry = table[slot]
            if entry == 0 { return nil }
            let k = Int(entry) - 1
            if hashes[k] == hash && equal(k, key) { return k }
            slot = (slot + 1) & (table.count - 1)
        }
    }

    private func equal(_ k: Int, _ key: [UInt8]) -> Bool {
        let start = starts[k], end = starts[k + 1]
        guard end - start == key.count else { return false }
        guard !key.isEmpty else { return true }
        return arena.withUnsafeBufferPointer { stored in
            key.withUnsafeBufferPointer { probe in memcmp(stored.baseAddress! + start, probe.baseAddress!, probe.count) == 0 }
        }
    }

    private mutating func grow() {
        var larger = [Int32](repeating: 0, count: table.count * 2)
        for (k, hash) in hashes.enumerated() {
            var slot = Int(hash & UInt64(larger.count - 1))
            while larger[slot] != 0 { slot = (slot + 1) & (larger.count - 1) }
            larger[slot] = Int32(k + 1)
        }
        table = larger
    }

    /// Eight bytes at a time, each word mixed in with a multiply and a shift, then a 64-bit finalizer so the low bits
    /// (the slot) depend on every byte.
    @inline(__always)
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(raw.count)
            var i = 0
            while i + 8 <= raw.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9e37_79b9_7f4a_7c15
                h ^= h >> 29
                i += 8
            }
            if i < raw.count {
                var tail: UInt64 = 0
                for j in i..<raw.count { tail |= UInt64(raw[j]) << UInt64(8 * (j - i)) }
                h = (h ^ tail) &* 0x9e37_79b9_7f4a_7c15
                h ^= h >> 29
            }
            h ^= h >> 33
            h = h &* 0xff51_afd7_ed55_8ccd
            h ^= h >> 33
            h = h &* 0xc4ce_b9fe_1a85_ec53
            return h ^ (h >> 33)
        }
    }
}

/// An open-addressing hash table from int64 keys to int32 values (linear probing, at most half full): the join's
/// build side for a single integer key, several times faster than a dictionary and a third of its memory.
struct IntKeyTable {
    private var keys: [Int64] = [Int64](repeating: 0, count: 1024)
    /// Value + 1 per slot (0: empty).
    private var values: [Int32] = [Int32](repeating: 0, count: 1024)
    private(set) var count = 0

    /// The value stored for `key`.
    @inline(__always)
    func get(_ key: Int64) -> Int32? {
        let mask = keys.count - 1
        var slot = Self.slot(key, mask)
        while values[slot] != 0 {
            if keys[slot] == key { return values[slot] - 1 }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Stores `value` for `key` and returns the value it replaces.
    @inline(__always)
    mutating func put(_ key: Int64, _ value: Int32) -> Int32? {
        let mask = keys.count - 1
        var slot = Self.slot(key, mask)
        while values[slot] != 0 {
            if keys[slot] == key {
                let old = values[slot] - 1
                values[slot] = value + 1
                return old
            }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = value + 1
        count += 1
        if count * 2 > keys.count { grow() }
        return nil
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [Int64](repeating: 0, count: oldKeys.count * 2)
        values = [Int32](repeating: 0, count: oldKeys.count * 2)
        let mask = keys.count - 1
        for i in oldKeys.indices where oldValues[i] != 0 {
            var slot = Self.slot(oldKeys[i], mask)
            while values[slot] != 0 { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[i]
            values[slot] = oldValues[i]
        }
    }

    @inline(__always)
    private static func slot(_ key: Int64, _ mask: Int) -> Int {
        var h = UInt64(bitPattern: key)
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return Int(h & UInt64(mask))
    }
}

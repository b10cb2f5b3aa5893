import Foundation

extension Column {
    /// The values at `rows` (in that order), copied with typed loops: no per-value enum dispatch, strings copied
    /// in one pass over their bytes.
    public func gathered(_ rows: UnsafeBufferPointer<Int32>) -> Column {
        let n = rows.count
        var validityOut: Bitmap?
        if let validity {
            var bits = Bitmap(repeating: true, count: n)
            for (i, r) in rows.enumerated() where !validity[Int(r)] { bits.clear(i) }
            validityOut = bits
        }
        switch buffer {
        case let .int64(values):
            let out = values.withUnsafeBufferPointer { v in [Int64](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n { buf[i] = v[Int(rows[i])] }
                count = n
            } }
            return Column(type: type, buffer: .int64(out), validity: validityOut)
        case let .int128(values):
            let out = values.withUnsafeBufferPointer { v in [Int128](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n { buf[i] = v[Int(rows[i])] }
                count = n
            } }
            return Column(type: type, buffer: .int128(out), validity: validityOut)
        case let .float64(values):
            let out = values.withUnsafeBufferPointer { v in [Double](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n { buf[i] = v[Int(rows[i])] }
                count = n
            } }
            return Column(type: type, buffer: .float64(out), validity: validityOut)
        case let .bool(values):
            let out = values.withUnsafeBufferPointer { v in [Bool](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n { buf[i] = v[Int(rows[i])] }
                count = n
            } }
            return Column(type: type, buffer: .bool(out), validity: validityOut)
        case let .bytes(source):
            return source.offsets.withUnsafeBufferPointer { offsets in
                var total = 0
                for r in rows { total += offsets[Int(r) + 1] - offsets[Int(r)] }
                let newOffsets = [Int](unsafeUninitializedCapacity: n + 1) { buf, count in
                    var position = 0
                    buf[0] = 0
                    for i in 0..<n {
                        let r = Int(rows[i])
                        position += offsets[r + 1] - offsets[r]
                        buf[i + 1] = position
                    }
                    count = n + 1
                }
                let data = source.data.withUnsafeBufferPointer { src in [UInt8](unsafeUninitializedCapacity: total) { buf, count in
                    var position = 0
                    for r in rows {
                        let start = offsets[Int(r)], length = offsets[Int(r) + 1] - start
                        Self.copyBytes(from: src.baseAddress! + start, to: buf.baseAddress! + position, length)
                        position += length
                    }
                    count = total
                } }
                return Column(type: type, buffer: .bytes(VariableWidthBuffer(offsets: newOffsets, data: data)), validity: validityOut)
            }
        }
    }
}

extension Column {
    /// Copies `count` bytes. Text values are mostly short, where a call to memcpy costs more than the copy: up to
    /// 32 bytes move as two overlapping unaligned loads and stores (of 1, 4, 8 or 16 bytes); longer ones by memcpy.
    @inline(__always)
    static func copyBytes(from source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, _ count: Int) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
        if count > 32 {
            memcpy(target, source, count)
        } else if count >= 16 {
            let head = from.loadUnaligned(as: SIMD16<UInt8>.self), tail = from.loadUnaligned(fromByteOffset: count - 16, as: SIMD16<UInt8>.self)
            to.storeBytes(of: head, as: SIMD16<UInt8>.self)
            to.storeBytes(of: tail, toByteOffset: count - 16, as: SIMD16<UInt8>.self)
        } else if count >= 8 {
            let head = from.loadUnaligned(as: UInt64.self), tail = from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
        } else if count >= 4 {
            let head = from.loadUnaligned(as: UInt32.self), tail = from.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
        } else {
            for i in 0..<count { target[i] = source[i] }
        }
    }
}

extension RecordBatch {
    /// The rows at `rows`, in that order (typed copies; see `Column.gathered`).
    public func gathered(_ rows: UnsafeBufferPointer<Int32>) -> RecordBatch {
        RecordBatch(schema: schema, columns: columns.map { $0.gathered(rows) }, count: rows.count)
    }

    /// The rows at `rows`, in that order.
    public func gathered(_ rows: [Int32]) -> RecordBatch {
        rows.withUnsafeBufferPointer { gathered($0) }
    }
}

extension RecordBatch {
    /// Rows taken from several batches of this schema, in the order `refs` gives (`source` indexes `sources`):
    /// a merge's output, copied column by column with typed loops.
    public static func interleaving(_ sources: [RecordBatch], _ refs: [(source: Int32, row: Int32)], schema: Schema) -> RecordBatch {
        let n = refs.count
        let columns = schema.fields.indices.map { k -> Column in
            let parts = sources.map { $0.columns[k] }
            let type = schema.fields[k].type
            guard let first = parts.first else {
                var empty = ColumnBuilder(type: type)
                return empty.finish()
            }
            return refs.withUnsafeBufferPointer { refs in
                let validity = interleavedValidity(parts, refs)
                switch first.buffer {
                case .int64:
                    return Column(type: type, buffer: .int64(interleaved(parts.map { $0.int64Values }, refs)), validity: validity)
                case .int128:
                    return Column(type: type, buffer: .int128(interleaved(parts.map { $0.int128Values }, refs)), validity: validity)
                case .float64:
                    return Column(type: type, buffer: .float64(interleaved(parts.map { $0.float64Values }, refs)), validity: validity)
                case .bool:
                    return Column(type: type, buffer: .bool(interleaved(parts.map { $0.boolValues }, refs)), validity: validity)
                case .bytes:
                    let buffers = parts.map { column -> VariableWidthBuffer in
                        if case let .bytes(b) = column.buffer { b } else { preconditionFailure("mixed storage") }
                    }
                    return Column(type: type, buffer: .bytes(interleaved(buffers, refs)), validity: validity)
                }
            }
        }
        return RecordBatch(schema: schema, columns: columns, count: n)
    }

    /// The validity of the rows `refs` names, nil when no source has NULLs.
    private static func interleavedValidity(_ parts: [Column], _ refs: UnsafeBufferPointer<(source: Int32, row: Int32)>) -> Bitmap? {
        guard parts.contains(where: { $0.validity != nil }) else { return nil }
        // A source without NULLs reads as all-valid words.
        let words = parts.map { $0.validity?.words ?? [UInt64](repeating: ~0, count: ($0.count + 63) >> 6) }
        var bits = Bitmap(repeating: true, count: refs.count)
        withBaseAddresses(words) { words in
            for (i, ref) in refs.enumerated() {
                let r = Int(ref.row)
                if words[Int(ref.source)].unsafelyUnwrapped[r &>> 6] & (1 &<< UInt64(r & 63)) == 0 { bits.clear(i) }
            }
        }
        return bits
    }

    /// The fixed-width values `refs` names, read through base pointers (no reference counting per row).
    private static func interleaved<T>(_ arrays: [[T]], _ refs: UnsafeBufferPointer<(source: Int32, row: Int32)>) -> [T] {
        withBaseAddresses(arrays) { bases in
            [T](unsafeUninitializedCapacity: refs.count) { out, count in
                for (i, ref) in refs.enumerated() { (out.baseAddress! + i).initialize(to: bases[Int(ref.source)].unsafelyUnwrapped[Int(ref.row)]) }
                count = refs.count
            }
        }
    }

    /// The variable-width values `refs` names: offsets first, then one memcpy per value.
    private static func interleaved(_ buffers: [VariableWidthBuffer], _ refs: UnsafeBufferPointer<(source: Int32, row: Int32)>) -> VariableWidthBuffer {
        withBaseAddresses(buffers.map(\.offsets)) { offsets in
            withBaseAddresses(buffers.map(\.data)) { data in
                var total = 0
                let newOffsets = [Int](unsafeUninitializedCapacity: refs.count + 1) { out, count in
                    out[0] = 0
                    for (i, ref) in refs.enumerated() {
                        let o = offsets[Int(ref.source)].unsafelyUnwrapped, r = Int(ref.row)
                        total += o[r + 1] - o[r]
                        out[i + 1] = total
                    }
                    count = refs.count + 1
                }
                let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, count in
                    var position = 0
                    for ref in refs {
                        let o = offsets[Int(ref.source)].unsafelyUnwrapped, r = Int(ref.row)
                        let start = o[r], length = o[r + 1] - start
                        if length > 0 { Column.copyBytes(from: data[Int(ref.source)].unsafelyUnwrapped + start, to: out.baseAddress! + position, length) }
                        position += length
                    }
                    count = total
                }
                return VariableWidthBuffer(offsets: newOffsets, data: bytes)
            }
        }
    }
}

/// Calls `body` with the base address of each array (nil for an empty one), all valid for the call: loops over
/// many arrays then index raw pointers instead of retaining an array per element. The pointers come from nested
/// `withUnsafeBufferPointer` calls, one stack frame per array; past 256 arrays (more batches than a merge
/// holds at once) the arrays are copied into one so the stack stays shallow.
func withBaseAddresses<T, R>(_ arrays: [[T]], _ body: (UnsafeBufferPointer<UnsafePointer<T>?>) throws -> R) rethrows -> R {
    if arrays.count > 256 {
        let joined = arrays.flatMap { $0 }
        var offset = 0
        return try joined.withUnsafeBufferPointer { all in
            let bases = arrays.map { array -> UnsafePointer<T>? in
                defer { offset += array.count }
                return array.isEmpty ? nil : all.baseAddress! + offset
            }
            return try bases.withUnsafeBufferPointer(body)
        }
    }
    var bases: [UnsafePointer<T>?] = []
    bases.reserveCapacity(arrays.count)
    func nest(_ i: Int) throws -> R {
        if i == arrays.count { return try bases.withUnsafeBufferPointer(body) }
        return try arrays[i].withUnsafeBufferPointer { buffer in
            bases.append(buffer.baseAddress)
            return try nest(i + 1)
        }
    }
    return try nest(0)
}

extension RecordBatch {
    /// The rows of several batches of one schema, one after another, as one batch (bulk copies per column).
    public static func concatenated(_ batches: [RecordBatch]) -> RecordBatch {
        if batches.count == 1 { return batches[0] }
        let schema = batches[0].schema
        let n = batches.reduce(0) { $0 + $1.count }
        let columns = schema.fields.indices.map { k -> Column in
            let parts = batches.map { $0.columns[k] }
            var validity: Bitmap?
            if parts.contains(where: { $0.validity != nil }) {
                var bits = Bitmap(repeating: true, count: n)
                var base = 0
                for part in parts {
                    if let v = part.validity { for i in 0..<part.count where !v[i] { bits.clear(base + i) } }
                    base += part.count
                }
                validity = bits
            }
            let type = schema.fields[k].type
            switch parts[0].buffer {
            case .int64:
                var out: [Int64] = []
                out.reserveCapacity(n)
                for part in parts { out.append(contentsOf: part.int64Values) }
                return Column(type: type, buffer: .int64(out), validity: validity)
            case .int128:
                var out: [Int128] = []
                out.reserveCapacity(n)
                for part in parts { out.append(contentsOf: part.int128Values) }
                return Column(type: type, buffer: .int128(out), validity: validity)
            case .float64:
                var out: [Double] = []
                out.reserveCapacity(n)
                for part in parts { out.append(contentsOf: part.float64Values) }
                return Column(type: type, buffer: .float64(out), validity: validity)
            case .bool:
                var out: [Bool] = []
                out.reserveCapacity(n)
                for part in parts { out.append(contentsOf: part.boolValues) }
                return Column(type: type, buffer: .bool(out), validity: validity)
            case .bytes:
                var offsets: [Int] = [0]
                offsets.reserveCapacity(n + 1)
                var data: [UInt8] = []
                data.reserveCapacity(parts.reduce(0) { total, part in if case let .bytes(b) = part.buffer { total + b.data.count } else { total } })
                for part in parts {
                    guard case let .bytes(b) = part.buffer, b.count > 0 else { continue }
                    let base = data.count - b.offsets[0]
                    data.append(contentsOf: b.data[b.offsets[0]..<b.offsets[b.count]])
                    for i in 1...b.count { offsets.append(b.offsets[i] + base) }
                }
                return Column(type: type, buffer: .bytes(VariableWidthBuffer(offsets: offsets, data: data)), validity: validity)
            }
        }
        return RecordBatch(schema: schema, columns: columns, count: n)
    }
}

extension Column {
    /// `gathered`, where a negative row number stands for NULL (an outer join's missing side).
    public func gathered(nullable rows: UnsafeBufferPointer<Int32>) -> Column {
        guard rows.contains(where: { $0 < 0 }) else { return gathered(rows) }
        guard count > 0 else {
            var builder = ColumnBuilder(type: type, capacity: rows.count)
            for _ in rows { builder.appendNull() }
            return builder.finish()
        }
        let placeholders = rows.map { max($0, 0) }
        let values = placeholders.withUnsafeBufferPointer { gathered($0) }
        var validity = values.validity ?? Bitmap(repeating: true, count: rows.count)
        for (i, r) in rows.enumerated() where r < 0 { validity.clear(i) }
        return Column(type: type, buffer: values.buffer, validity: validity)
    }
}

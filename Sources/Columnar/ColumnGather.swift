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
    /// Copies `count` bytes (memcpy beat a byte loop for short text in the window benchmark).
    @inline(__always)
    static func copyBytes(from source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, _ count: Int) {
        if count > 0 { memcpy(target, source, count) }
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
            var validity: Bitmap?
            if parts.contains(where: { $0.validity != nil }) {
                var bits = Bitmap(repeating: true, count: n)
                for (i, ref) in refs.enumerated() where parts[Int(ref.source)].isNull(Int(ref.row)) { bits.clear(i) }
                validity = bits
            }
            switch parts.first?.buffer {
            case .int64?:
                let arrays = parts.map { $0.int64Values }
                let out = [Int64](unsafeUninitializedCapacity: n) { buf, count in
                    for (i, ref) in refs.enumerated() { buf[i] = arrays[Int(ref.source)][Int(ref.row)] }
                    count = n
                }
                return Column(type: schema.fields[k].type, buffer: .int64(out), validity: validity)
            case .float64?:
                let arrays = parts.map { $0.float64Values }
                let out = [Double](unsafeUninitializedCapacity: n) { buf, count in
                    for (i, ref) in refs.enumerated() { buf[i] = arrays[Int(ref.source)][Int(ref.row)] }
                    count = n
                }
                return Column(type: schema.fields[k].type, buffer: .float64(out), validity: validity)
            case .bool?:
                let arrays = parts.map { $0.boolValues }
                let out = refs.map { arrays[Int($0.source)][Int($0.row)] }
                return Column(type: schema.fields[k].type, buffer: .bool(out), validity: validity)
            case .bytes?:
                let buffers = parts.map { column -> VariableWidthBuffer in if case let .bytes(b) = column.buffer { b } else { preconditionFailure("mixed storage") } }
                var total = 0
                for ref in refs { total += buffers[Int(ref.source)].range(Int(ref.row)).count }
                var offsets = [Int](repeating: 0, count: n + 1)
                var data = [UInt8](repeating: 0, count: total)
                data.withUnsafeMutableBufferPointer { out in
                    var position = 0
                    for (i, ref) in refs.enumerated() {
                        let buffer = buffers[Int(ref.source)], range = buffer.range(Int(ref.row))
                        if !range.isEmpty {
                            buffer.data.withUnsafeBufferPointer { src in Column.copyBytes(from: src.baseAddress! + range.lowerBound, to: out.baseAddress! + position, range.count) }
                        }
                        position += range.count
                        offsets[i + 1] = position
                    }
                }
                return Column(type: schema.fields[k].type, buffer: .bytes(VariableWidthBuffer(offsets: offsets, data: data)), validity: validity)
            case nil:
                var empty = ColumnBuilder(type: schema.fields[k].type)
                return empty.finish()
            }
        }
        return RecordBatch(schema: schema, columns: columns, count: n)
    }
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

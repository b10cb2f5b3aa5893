import Columnar
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A temporary file of record batches that did not fit in memory (a join's partitions, a sort's runs), in a
/// compact binary layout: per batch its row count, then per column the validity words (when it has NULLs) and
/// the raw buffer. Written once, then read back in order; removed by `remove()` (the directory by `SpillDirectory`).
final class SpillFile {
    let path: String
    private var handle: UnsafeMutablePointer<FILE>?
    private(set) var batches = 0
    private(set) var rows = 0
    private(set) var bytesWritten = 0

    init(path: String) throws {
        self.path = path
        guard let handle = fopen(path, "w+b") else { throw SpillError("cannot create the spill file \(path): \(String(cString: strerror(errno)))") }
        self.handle = handle
    }

    deinit { if let handle { fclose(handle) } }

    /// Appends a batch: each buffer goes to the (buffered) file as it is, without an intermediate copy.
    func write(_ batch: RecordBatch) throws {
        guard let handle else { throw SpillError("the spill file \(path) is closed") }
        var written = 0
        func put(_ pointer: UnsafeRawBufferPointer) throws {
            guard pointer.count > 0 else { return }
            guard fwrite(pointer.baseAddress, 1, pointer.count, handle) == pointer.count else {
                throw SpillError("cannot write the spill file \(path) (disk full?): \(String(cString: strerror(errno)))")
            }
            written += pointer.count
        }
        try withUnsafeBytes(of: UInt64(batch.count).littleEndian) { try put($0) }
        for column in batch.columns {
            if let validity = column.validity {
                try withUnsafeBytes(of: UInt8(1)) { try put($0) }
                try validity.words.withUnsafeBytes { try put($0) }
            } else {
                try withUnsafeBytes(of: UInt8(0)) { try put($0) }
            }
            switch column.buffer {
            case let .bool(v): try v.map { UInt8($0 ? 1 : 0) }.withUnsafeBytes { try put($0) }
            case let .int64(v): try v.withUnsafeBytes { try put($0) }
            case let .int128(v): try v.withUnsafeBytes { try put($0) }
            case let .float64(v): try v.withUnsafeBytes { try put($0) }
            case let .bytes(b):
                let base = b.offsets.first ?? 0
                if base == 0 {
                    try b.offsets.withUnsafeBytes { try put($0) }
                } else {
                    try b.offsets.map { $0 - base }.withUnsafeBytes { try put($0) }
                }
                try b.data.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0[base..<(b.offsets.last ?? base)])) }
            }
        }
        batches += 1
        rows += batch.count
        bytesWritten += written
    }

    /// Reads the batches back in the order written.
    func read(schema: Schema, _ body: (RecordBatch) async throws -> Void) async throws {
        let reader = try reader(schema: schema)
        while let batch = try reader.next() { try await body(batch) }
    }

    /// A reader of the batches written so far, with its own position (several may read at once, as a merge does).
    func reader(schema: Schema) throws -> SpillReader {
        if let handle { fflush(handle) }
        return try SpillReader(path: path, schema: schema, batches: batches)
    }

    /// Closes and deletes the file.
    func remove() {
        if let handle { fclose(handle) }
        handle = nil
        unlink(path)
    }
}

/// Reads one spill file's batches in order, one at a time.
final class SpillReader {
    let path: String
    let schema: Schema
    private var handle: UnsafeMutablePointer<FILE>?
    private var remaining: Int

    init(path: String, schema: Schema, batches: Int) throws {
        guard let handle = fopen(path, "rb") else { throw SpillError("cannot read the spill file \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.schema = schema
        self.handle = handle
        remaining = batches
    }

    deinit { if let handle { fclose(handle) } }

    /// The next batch, or nil after the last.
    func next() throws -> RecordBatch? {
        guard remaining > 0, let handle else { return nil }
        remaining -= 1
        let count = Int(try readWord(handle))
        var columns: [Column] = []
        for field in schema.fields {
            var validity: Bitmap?
            if try readBytes(handle, 1)[0] == 1 {
                var words: [UInt64] = []
                for _ in 0..<((count + 63) >> 6) { words.append(try readWord(handle)) }
                validity = Bitmap(words: words, count: count)
            }
            let buffer: ColumnBuffer
            switch field.type.storage {
            case .bool: buffer = .bool(try readBytes(handle, count).map { $0 != 0 })
            case .int64: buffer = .int64(try readArray(handle, count, of: Int64.self))
            case .int128: buffer = .int128(try readArray(handle, count, of: Int128.self))
            case .float64: buffer = .float64(try readArray(handle, count, of: Double.self))
            case .bytes:
                let offsets = try readArray(handle, count + 1, of: Int.self)
                buffer = .bytes(VariableWidthBuffer(offsets: offsets, data: try readBytes(handle, offsets.last ?? 0)))
            }
            columns.append(Column(type: field.type, buffer: buffer, validity: validity))
        }
        if remaining == 0 { fclose(handle); self.handle = nil }
        return RecordBatch(schema: schema, columns: columns, count: count)
    }

    private func readBytes(_ handle: UnsafeMutablePointer<FILE>, _ count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, count, handle) }
        guard read == count else { throw SpillError("the spill file \(path) ended early") }
        return bytes
    }

    private func readWord(_ handle: UnsafeMutablePointer<FILE>) throws -> UInt64 {
        let bytes = try readBytes(handle, 8)
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    private func readArray<T>(_ handle: UnsafeMutablePointer<FILE>, _ count: Int, of: T.Type) throws -> [T] {
        guard count > 0 else { return [] }
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let read = fread(buffer.baseAddress, MemoryLayout<T>.stride, count, handle)
            initialized = read
        }
        guard values.count == count else { throw SpillError("the spill file \(path) ended early") }
        return values
    }
}

/// A private directory for one node's spill files (under `$TMPDIR`), removed with everything in it.
final class SpillDirectory {
    let path: String
    private var next = 0

    init(node: String) throws {
        path = FileManager.default.temporaryDirectory.path + "/sluice-spill-\(node.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw SpillError("cannot create a spill directory in \(FileManager.default.temporaryDirectory.path) (set TMPDIR to a roomy disk): \(error.localizedDescription)")
        }
    }

    /// A new empty spill file in this directory.
    func file() throws -> SpillFile {
        next += 1
        return try SpillFile(path: path + "/\(next).spill")
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Spilling to disk failed (no space, no directory).
struct SpillError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

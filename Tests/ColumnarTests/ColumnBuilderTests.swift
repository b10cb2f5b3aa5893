import Testing
@testable import Columnar

@Suite struct ColumnBuilderTests {
    @Test func nullsAfterValuesKeepEarlierRowsValid() {
        var builder = ColumnBuilder(type: .int64)
        for i in 0..<100 { builder.appendInt64(Int64(i)) }
        builder.appendNull()
        builder.appendInt64(7)
        let column = builder.finish()
        #expect(column.count == 102)
        #expect(column.nullCount == 1)
        #expect(column.isNull(100))
        #expect(!column.isNull(63) && !column.isNull(64) && !column.isNull(101))
        #expect(column.value(at: 101) == .int(7))
    }

    @Test func columnsWithoutNullsHaveNoBitmap() {
        var builder = ColumnBuilder(type: .string)
        builder.appendString("a")
        builder.appendString("")
        let column = builder.finish()
        #expect(column.validity == nil)
        #expect(column.value(at: 1) == .string(""))
    }

    @Test func stringsShareOneBuffer() {
        var builder = ColumnBuilder(type: .string)
        for s in ["héllo", "", "wörld"] { builder.appendString(s) }
        builder.appendNull()
        let column = builder.finish()
        #expect(column.byteValues.offsets == [0, 6, 6, 12, 12])
        #expect((0..<4).map { column.value(at: $0) } == [.string("héllo"), .string(""), .string("wörld"), .null])
    }

    @Test func filteringAndSlicingKeepTypesAndNulls() {
        var builder = ColumnBuilder(type: .float64)
        for v: Value in [.float(1), .null, .float(3), .float(4)] { builder.append(v) }
        let column = builder.finish()
        let filtered = column.filtered([false, true, true, false], keptCount: 2)
        #expect((0..<2).map { filtered.value(at: $0) } == [.null, .float(3)])
        let sliced = column.slice(2..<4)
        #expect((0..<2).map { sliced.value(at: $0) } == [.float(3), .float(4)])
    }

    @Test func valuesConvertIntoDecimalAndTimestampColumns() {
        var decimal = ColumnBuilder(type: .decimal(precision: 10, scale: 2))
        decimal.append(.int(3))
        decimal.append(.float(1.005))
        decimal.append(.decimal(12345, scale: 3))
        let column = decimal.finish()
        #expect(column.int64Values == [300, 101, 1235])
        #expect(column.value(at: 0).description == "3.00")
    }

    @Test func bitmapCountsAndIntersects() {
        var a = Bitmap(repeating: true, count: 70)
        a.clear(3)
        var b = Bitmap(repeating: true, count: 70)
        b.clear(69)
        let both = a & b
        #expect(both.setCount == 68)
        #expect(!both[3] && !both[69] && both[68])
        #expect(Bitmap.intersect(nil, nil) == nil)
    }

    @Test func batchesProjectByName() {
        let schema = Schema([SchemaField("a", .int64), SchemaField("b", .string)])
        var a = ColumnBuilder(type: .int64), b = ColumnBuilder(type: .string)
        a.appendInt64(1); b.appendString("x")
        let batch = RecordBatch(schema: schema, columns: [a.finish(), b.finish()])
        let projected = batch.projected(["b"])
        #expect(projected.schema.names == ["b"])
        #expect(projected.row(0) == [.string("x")])
        #expect(batch.column(named: "missing") == nil)
    }
}

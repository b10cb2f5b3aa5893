import Columnar
import Testing
@testable import Expressions

@Suite struct ParserTests {
    @Test func precedenceFollowsSQL() throws {
        let schema = Schema([SchemaField("a", .int64), SchemaField("b", .bool)])
        var builder = ColumnBuilder(type: .int64)
        builder.appendInt64(2)
        var bools = ColumnBuilder(type: .bool)
        bools.appendBool(false)
        let batch = RecordBatch(schema: schema, columns: [builder.finish(), bools.finish()])
        let cases: [(String, Value)] = [
            ("1 + 2 * 3", .int(7)), ("(1 + 2) * 3", .int(9)), ("a * 2 + 1 > 4", .bool(true)),
            ("NOT b AND a = 2", .bool(true)), ("b OR a = 2 AND a > 5", .bool(false)), ("-a * 2", .int(-4)),
            ("a BETWEEN 1 AND 3 AND NOT b", .bool(true)), ("'x' || 'y' = 'xy'", .bool(true)), ("a::float64 / 4", .float(0.5)),
        ]
        for (text, expected) in cases {
            let value = try Expression(text).bind(to: schema).evaluate(batch).column.value(at: 0)
            #expect(value == expected, "\(text)")
        }
    }

    @Test func referencedColumnsAreCollected() throws {
        let e = try Expression("CASE WHEN \"odd col\" > 1 THEN lower(s) ELSE t END || x")
        #expect(e.referencedColumns == ["odd col", "s", "t", "x"])
    }

    @Test(arguments: [("a +", 3), ("a + )", 4), ("CASE WHEN a THEN", 16), ("a IN (1, 2", 10), ("f(a,", 4)])
    func syntaxErrorsPointAtTheProblem(text: String, start: Int) {
        #expect(throws: ExpressionError.self) { try Expression(text) }
        do { _ = try Expression(text) } catch {
            #expect(error.code == "syntax_error")
            #expect(error.span?.start == start, "\(text): \(error)")
        }
    }

    @Test func likeUnderscoreMatchesOneCharacterNotOneByte() {
        var text = "ü"
        #expect(text.withUTF8 { LikePattern("_").matches($0) })
        text = "naïve"
        #expect(text.withUTF8 { LikePattern("na_ve").matches($0) })
        #expect(text.withUTF8 { LikePattern("%ï%").matches($0) })
        #expect(!text.withUTF8 { LikePattern("n_ve").matches($0) })
    }
}

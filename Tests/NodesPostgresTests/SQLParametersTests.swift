import Testing
@testable import NodesPostgres

/// `:name` parameters become `$n` placeholders or literals, never inside strings, quoted names, comments or casts.
@Suite struct SQLParametersTests {
    static let sql = "SELECT ':min', \"a:b\", x::text FROM t -- :note\nWHERE amount > :min AND kind = :kind OR amount < :min * 2"

    @Test func placeholdersNumberDistinctNamesInOrder() {
        let (sql, names) = SQLParameters.positional(Self.sql)
        #expect(names == ["min", "kind"])
        #expect(sql == "SELECT ':min', \"a:b\", x::text FROM t -- :note\nWHERE amount > $1 AND kind = $2 OR amount < $1 * 2")
    }

    @Test func literalsReplaceOnlyParameters() {
        let sql = SQLParameters.inlined(Self.sql) { $0 == "min" ? "10" : "'it''s'" }
        #expect(sql == "SELECT ':min', \"a:b\", x::text FROM t -- :note\nWHERE amount > 10 AND kind = 'it''s' OR amount < 10 * 2")
    }
}

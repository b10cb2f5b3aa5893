import NodeKit
@testable import NodesSQL
import Testing

/// The model template language and the SQL statement splitter, without a database.
@Suite struct ModelTemplateTests {
    func render(_ text: String, incremental: Bool = false, vars: [String: String] = [:]) throws -> String {
        let template = try ModelTemplate(text)
        return try template.render(ModelTemplate.Context(relation: { relation in
            switch relation {
            case let .model(name): "\"a\".\"\(name)\""
            case let .source(source, table): "\"\(source)\".\"\(table)\""
            }
        }, vars: vars, isIncremental: incremental), this: "\"a\".\"self\"")
    }

    @Test func refsSourcesThisVarsAndConfigRender() throws {
        let text = """
        {{ config(materialized='incremental', unique_key=['id', "day"]) }}
        select * from {{ ref('stg_orders') }} join {{source("raw",'customers')}} using (id)
        where day > '{{ var("since", "2026-01-01") }}' -- {{ this }}
        """
        let template = try ModelTemplate(text)
        #expect(template.refs == [ModelTemplate.Reference(name: "stg_orders", line: 2)])
        #expect(template.sources.map(\.table) == ["customers"])
        #expect(template.config["materialized"] == ["incremental"])
        #expect(template.config["unique_key"] == ["id", "day"])
        #expect(try render(text) == """

        select * from "a"."stg_orders" join "raw"."customers" using (id)
        where day > '2026-01-01' -- "a"."self"
        """)
        #expect(try render(text, vars: ["since": "2026-05-01"]).contains("'2026-05-01'"))
    }

    @Test func incrementalBlocksKeepTheirBranch() throws {
        let text = "select 1 {% if is_incremental() %}where a{% else %}where b{% endif %} {%- if not is_incremental() -%} full {% endif %}"
        #expect(try render(text, incremental: true) == "select 1 where a")
        #expect(try render(text, incremental: false) == "select 1 where bfull ")
    }

    @Test func mistakesNameTheirLine() {
        for (text, line, words) in [
            ("select 1\nfrom {{ adapter.get() }}", 2, "unsupported"),
            ("select\n{% for x in y %}", 2, "unsupported tag"),
            ("select {% if is_incremental() %} 1", 1, "endif"),
            ("select 1\n\n{% endif %}", 3, "without {% if %}"),
            ("select {{ ref('a', 'b') }}", 1, "one model name"),
            ("select {{ ref('a')", 1, "never closed"),
        ] {
            #expect(throws: ModelTemplate.Failure.self) { try ModelTemplate(text) }
            do { _ = try ModelTemplate(text) } catch {
                #expect(error.line == line, "\(text)")
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
        #expect(throws: ModelTemplate.Failure.self) { try render("select {{ var('missing') }}") }
    }

    @Test func scriptsSplitAtTopLevelSemicolonsWithLines() {
        let script = SQLScript("""
        -- leading comment
        CREATE TABLE t (a text DEFAULT ';');

        /* a; comment */ INSERT INTO t VALUES ('x;y'), ("q;");
        DO $body$ BEGIN RAISE NOTICE 'hi;'; END $body$;
        SELECT 1 -- trailing; comment
        ;
        -- only a comment;
        """)
        #expect(script.statements.map(\.line) == [2, 4, 5, 6])
        #expect(script.statements[0].text == "CREATE TABLE t (a text DEFAULT ';')")
        #expect(script.statements[2].text == "DO $body$ BEGIN RAISE NOTICE 'hi;'; END $body$")
        #expect(script.statements[1].line(atCharacter: 1) == 4)
        #expect(SQLScript("SELECT 1;\nSELECT\n  x").statements[1].line(atCharacter: 10) == 3)
    }
}

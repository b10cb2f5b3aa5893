public import NodeKit

extension PostgresConnector: DBTProfiling {
    /// A `postgres` profile output; the password travels in `SLUICE_DBT_PASSWORD`, never in the file.
    public static func dbtProfile(_ connection: Connection, schema: String, threads: Int) throws(ConfigError) -> DBTProfile {
        let endpoint = try PostgresEndpoint(connection)
        var fields: [(name: String, value: String)] = [("type", "postgres"), ("host", endpoint.host), ("port", String(endpoint.port)), ("user", endpoint.user)]
        // dbt-postgres requires a password field, also for servers that need none.
        fields.append(("password", "{{ env_var('SLUICE_DBT_PASSWORD') }}"))
        let environment = ["SLUICE_DBT_PASSWORD": endpoint.password?.reveal() ?? ""]
        fields += [("dbname", endpoint.database), ("schema", schema), ("threads", String(threads)), ("sslmode", endpoint.sslmode.rawValue)]
        return DBTProfile(fields: fields, environment: environment)
    }
}

import Foundation

/// The metadata store's schema, as an ordered list of migrations both dialects run.
///
/// Append only: a released migration never changes. Times are Unix milliseconds (BIGINT), identifiers
/// are generated text ids, flags are 0/1 integers, so one SQL text serves SQLite and PostgreSQL;
/// `{blob}` is the one type that differs (BLOB / BYTEA).
enum Migrations {
    static let all: [(version: Int64, statements: [String])] = [
        (1, [
            """
            CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)
            """,
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, password_hash TEXT NOT NULL,
                created_at BIGINT NOT NULL, disabled BIGINT NOT NULL DEFAULT 0)
            """,
            """
            CREATE TABLE refresh_tokens (
                id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, family TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
                spent_at BIGINT, revoked_at BIGINT)
            """,
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family)",
            """
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, last_used_at BIGINT, revoked_at BIGINT)
            """,
            """
            CREATE TABLE vault (
                id BIGINT PRIMARY KEY, kdf TEXT NOT NULL, rounds BIGINT NOT NULL, salt {blob} NOT NULL,
                wrapped_key {blob} NOT NULL, key_version BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE connections (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, settings TEXT NOT NULL,
                sealed_secrets {blob}, secret_fields TEXT NOT NULL, key_version BIGINT, created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, discovery TEXT, discovered_at BIGINT)
            """,
            """
            CREATE TABLE pipelines (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, current_revision BIGINT NOT NULL, created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE pipeline_revisions (
                pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE, revision BIGINT NOT NULL,
                document TEXT NOT NULL, author TEXT NOT NULL, message TEXT NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (pipeline_id, revision))
            """,
            """
            CREATE TABLE pipeline_shares (
                pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL,
                PRIMARY KEY (pipeline_id, user_id))
            """,
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
                revision BIGINT NOT NULL, parameters TEXT NOT NULL, status TEXT NOT NULL, attempt BIGINT NOT NULL,
                max_attempts BIGINT NOT NULL, requested_by TEXT NOT NULL, queued_at BIGINT NOT NULL, started_at BIGINT,
                finished_at BIGINT, worker_id TEXT, lease_expires_at BIGINT, cancel_requested BIGINT NOT NULL DEFAULT 0,
                error TEXT, rejected BIGINT NOT NULL DEFAULT 0, replay_of TEXT)
            """,
            "CREATE INDEX runs_queue ON runs (status, queued_at)",
            "CREATE INDEX runs_pipeline ON runs (pipeline_id, queued_at)",
            """
            CREATE TABLE run_nodes (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, node TEXT NOT NULL, status TEXT NOT NULL,
                records_in BIGINT NOT NULL, records_out BIGINT NOT NULL, rejected BIGINT NOT NULL, bytes BIGINT NOT NULL,
                duration_ms BIGINT NOT NULL, error TEXT, PRIMARY KEY (run_id, node))
            """,
            """
            CREATE TABLE run_logs (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq BIGINT NOT NULL, at BIGINT NOT NULL,
                level TEXT NOT NULL, node TEXT, message TEXT NOT NULL, PRIMARY KEY (run_id, seq))
            """,
            """
            CREATE TABLE run_rejects (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq BIGINT NOT NULL, node TEXT NOT NULL,
                packet TEXT NOT NULL, PRIMARY KEY (run_id, seq))
            """,
            """
            CREATE TABLE audit_log (
                id TEXT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT, action TEXT NOT NULL, target TEXT, detail TEXT,
                address TEXT)
            """,
            "CREATE INDEX audit_log_at ON audit_log (at)",
        ]),
        (2, [
            // Triggers: what starts runs by itself. `state` is the kind's JSON state (last fire time, watermark, seen files…),
            // `state_version` guards it so two schedulers can never fire the same event; `declared_in` marks a trigger
            // declared by a pipeline document's `triggers:` block (it lives and dies with that pipeline).
            """
            CREATE TABLE triggers (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, settings TEXT NOT NULL, rule TEXT,
                enabled BIGINT NOT NULL, overlap TEXT NOT NULL, missed TEXT NOT NULL, missed_cap BIGINT NOT NULL,
                declared_in TEXT REFERENCES pipelines(id) ON DELETE CASCADE, state TEXT NOT NULL, state_version BIGINT NOT NULL,
                secret_hash TEXT, sealed_secret {blob}, key_version BIGINT, created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE trigger_pipelines (
                trigger_id TEXT NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
                pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE, parameters TEXT NOT NULL,
                PRIMARY KEY (trigger_id, pipeline_id))
            """,
            """
            CREATE TABLE trigger_firings (
                id TEXT PRIMARY KEY, trigger_id TEXT NOT NULL REFERENCES triggers(id) ON DELETE CASCADE, at BIGINT NOT NULL,
                event TEXT NOT NULL, rule_result TEXT NOT NULL, runs TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT)
            """,
            "CREATE INDEX trigger_firings_at ON trigger_firings (trigger_id, at)",
            """
            CREATE TABLE webhook_deliveries (
                trigger_id TEXT NOT NULL REFERENCES triggers(id) ON DELETE CASCADE, signature TEXT NOT NULL, at BIGINT NOT NULL,
                PRIMARY KEY (trigger_id, signature))
            """,
            "ALTER TABLE runs ADD COLUMN trigger_id TEXT",
        ]),
        // Connections have owners (their creator, `created_by`) and shares: a member uses only the connections
        // they own, that are shared with them, or that an admin shared with everyone.
        (3, [
            "ALTER TABLE connections ADD COLUMN shared_with_everyone BIGINT NOT NULL DEFAULT 0",
            """
            CREATE TABLE connection_shares (
                connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL,
                PRIMARY KEY (connection_id, user_id))
            """,
            // Failed sign-ins, shared by every server process of the store (the login throttle). Keys are
            // SHA-256 digests of "user:NAME" / "addr:ADDRESS"; rows older than the window are pruned.
            "CREATE TABLE login_failures (key_hash TEXT NOT NULL, at BIGINT NOT NULL)",
            "CREATE INDEX login_failures_key ON login_failures (key_hash, at)",
        ]),
        // Trigger settings use camelCase keys like node settings (`poll_every` → `pollEvery`). Stored settings are
        // compact JSON written by the server, so each key is the text `"key":`.
        (4, [
            "UPDATE triggers SET settings = REPLACE(settings, '\"poll_every\":', '\"pollEvery\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"fire_on_first\":', '\"fireOnFirst\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"max_body_bytes\":', '\"maxBodyBytes\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"tolerance_seconds\":', '\"toleranceSeconds\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"timeout_seconds\":', '\"timeoutSeconds\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"has_attachment\":', '\"hasAttachment\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"max_messages_per_poll\":', '\"maxMessagesPerPoll\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"max_message_bytes\":', '\"maxMessageBytes\":')",
            "UPDATE triggers SET settings = REPLACE(settings, '\"attachments_directory\":', '\"attachmentsDirectory\":')",
        ]),
        // Worker processes say they are alive (the dashboard's "workers alive"); a row is refreshed while its
        // process runs and removed when it stops.
        (5, [
            "CREATE TABLE worker_processes (id TEXT PRIMARY KEY, slots BIGINT NOT NULL, busy BIGINT NOT NULL, started_at BIGINT NOT NULL, seen_at BIGINT NOT NULL)",
            "CREATE INDEX runs_finished ON runs (pipeline_id, finished_at)",
        ]),
        // A run's nodes are listed in the pipeline's order (the plan's topological order), not by name.
        (6, [
            "ALTER TABLE run_nodes ADD COLUMN position BIGINT NOT NULL DEFAULT 0",
        ]),
        // Edge samples: each node output's first rows and row count in a run (`sampleRows`), deleted with the run.
        (7, [
            """
            CREATE TABLE run_samples (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, node TEXT NOT NULL, port TEXT NOT NULL,
                position BIGINT NOT NULL, rows_seen BIGINT NOT NULL, sample TEXT NOT NULL, PRIMARY KEY (run_id, node, port))
            """,
        ]),
        // Debug runs: `debug` holds how the run was asked to debug (`RunDebugSettings` as JSON; NULL for an ordinary
        // run), `debug_pause` where it is paused now (the batch there, written by its worker; NULL while it runs on).
        (8, [
            "ALTER TABLE runs ADD COLUMN debug TEXT",
            "ALTER TABLE runs ADD COLUMN debug_pause TEXT",
        ]),
        // Steps of a node's work (SQL models, data tests), each with its outcome; kept and deleted with the run.
        (9, [
            """
            CREATE TABLE run_steps (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, node TEXT NOT NULL, name TEXT NOT NULL, position BIGINT NOT NULL,
                kind TEXT NOT NULL, status TEXT NOT NULL, rows_count BIGINT, duration_ms BIGINT, message TEXT, sql_text TEXT,
                PRIMARY KEY (run_id, node, name))
            """,
        ]),
        // Live editing: the working copy of a pipeline is its current revision plus the operations editors sent
        // since the last save, in the server's order (`seq`, counted per pipeline in `live_seq`); a revision lists who
        // contributed to it (`contributors`, comma-separated; NULL: its author alone).
        (10, [
            """
            CREATE TABLE pipeline_live_ops (
                pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE, seq BIGINT NOT NULL, client TEXT NOT NULL,
                client_op BIGINT NOT NULL, author TEXT NOT NULL, op TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (pipeline_id, seq))
            """,
            "ALTER TABLE pipelines ADD COLUMN live_seq BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE pipeline_revisions ADD COLUMN contributors TEXT",
        ]),
    ]

    /// Brings the store to the latest version. Safe to call from several processes at once.
    static func run(on database: any StoreDatabase, now: Int64) async throws {
        try await database.transaction { session in
            if database.dialect == .postgres {
                // Serializes concurrent starts; released at commit.
                try await session.execute("SELECT pg_advisory_xact_lock(7243015)")
            }
            try await session.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            let applied = Set(try await session.query("SELECT version FROM schema_migrations").compactMap { $0.int("version") })
            for migration in all where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await session.execute(statement.replacingOccurrences(of: "{blob}", with: database.dialect == .postgres ? "BYTEA" : "BLOB"))
                }
                try await session.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", .int(migration.version), .int(now))
            }
        }
    }
}

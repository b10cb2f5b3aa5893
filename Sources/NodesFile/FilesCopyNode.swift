import Columnar
public import NodeKit

/// Copies files byte for byte from one store to another (a partner's SFTP folder into a bucket, a URL into the
/// workspace), without reading them as rows. Each copy is written like every file output: under a temporary name,
/// made visible only when the run commits, so a failed run leaves no target file. Emits one row per file copied.
public struct FilesCopyNode: NodeType {
    static let path = Field<String>("path", summary: "A file or glob (outbox/*.csv, logs/**/*.gz) in the connection's store, relative to the pipeline file for local files, or an https:// URL.", example: "outbox/*.csv")
    static let connection = Field<ConnectionName?>("connection", summary: "The connection to copy from (sftp, s3; http for https:// paths that need headers); the local files when absent.", example: "partner")
    static let to = Field<String>("to", summary: "Where the copies go: a folder ending in '/' (files keep their names and the folders below the glob's fixed part), or one file's path when `path` names a single file.", example: "raw/orders/")
    static let toConnection = Field<ConnectionName?>("toConnection", summary: "The connection to copy into (s3, sftp); the local files when absent.", example: "lake")

    public static let spec = NodeSpec(
        id: "files.copy", version: 1, category: .source, title: "Copy files",
        summary: "Copies files as they are (no parsing) between stores: SFTP, S3, HTTPS and local; the copies appear when the run commits.",
        inputs: [], outputs: [.data("out", "One row per file copied: its path, the target path and its size in bytes.")],
        fields: [path.spec, connection.spec, to.spec, toConnection.spec],
        capabilities: [.transactionalSink], icon: "copy")

    /// The rows the node emits.
    static let schema = Schema([SchemaField("path", .string), SchemaField("target", .string), SchemaField("bytes", .int64)])

    let settings: Settings
    let source: FileLocation
    let target: FileLocation
    let intoFolder: Bool

    public init(settings: Settings) throws(ConfigError) {
        self.settings = settings
        source = try settings.fileLocation(path: Self.path, connection: Self.connection)
        target = try settings.fileLocation(path: Self.to, connection: Self.toConnection, writing: true)
        intoFolder = try settings[Self.to].hasSuffix("/")
    }

    public func plan(_ request: PlanRequest) async throws(ConfigError) -> NodePlan {
        let files = try await FileNodeSupport.list(source, settings: settings, path: Self.path)
        if !intoFolder, files.count > 1 {
            throw settings.error(Self.to, "names one file but \(source.described) matches \(files.count) files; end it with '/' to copy them into a folder", code: "invalid_setting")
        }
        var targets: [String] = []
        for file in files {
            let target: String
            do { target = try targetPath(of: file.path) } catch { throw settings.error(Self.path, error.message, code: error.code) }
            targets.append(target)
        }
        return NodePlan(outputs: ["out": Self.schema], work: Work(source: source, target: target, files: Array(zip(files, targets))))
    }

    /// Where a source file's copy goes: `to` itself, or `to` followed by the file's path below the glob's fixed
    /// part. A source name that would climb out of `to` (`..`, from a hostile server's listing) is refused.
    func targetPath(of sourcePath: String) throws(NodeError) -> String {
        guard intoFolder else { return target.path }
        let prefix = GlobPattern(source.path).literalPrefix
        let relative = sourcePath.hasPrefix(prefix) && prefix.hasSuffix("/") ? String(sourcePath.dropFirst(prefix.count)) : PathText.lastComponent(sourcePath)
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw NodeError(code: "invalid_path", message: "cannot copy '\(sourcePath)': its name would leave the target folder")
        }
        let folder = target.path.hasSuffix("/") ? target.path : target.path + "/"
        return folder + relative
    }

    struct Work: NodeWork {
        let source: FileLocation
        let target: FileLocation
        let files: [(StoredFile, String)]

        /// Bytes moved per read: large enough that a remote store's pipelined reads stay full.
        static let bufferSize = 1 << 20

        func run(_ context: any NodeContext) async throws -> (any PendingCommit)? {
            context.expectBytes(FileInput.totalSize(of: files.map(\.0)))
            var commits: [any PendingCommit] = []
            do {
                var builders = FilesCopyNode.schema.fields.map { ColumnBuilder(type: $0.type, capacity: files.count) }
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
                defer { buffer.deallocate() }
                for (file, targetPath) in files {
                    try Task.checkCancellation()
                    let copied: Int
                    if context.isPreview {
                        copied = Int(file.size ?? 0)
                    } else {
                        let (commit, bytes) = try await copy(file, to: targetPath, buffer: buffer, context)
                        commits.append(commit)
                        copied = bytes
                    }
                    builders[0].append(.string(file.path))
                    builders[1].append(.string(targetPath))
                    builders[2].append(.int(Int64(copied)))
                    context.log(.info, "copied \(source.isLocal ? "'\(file.path)'" : "'\(file.path)' from \(source.store.label)") to \(target.isLocal ? "'\(targetPath)'" : "'\(targetPath)' in \(target.store.label)") (\(copied) bytes)")
                }
                let columns = builders.indices.map { builders[$0].finish() }
                try await context.emit(RecordBatch(schema: FilesCopyNode.schema, columns: columns, count: files.count), on: "out")
            } catch {
                for commit in commits { await commit.abort() }
                throw error
            }
            return commits.isEmpty ? nil : CommitAll(commits)
        }

        /// Streams one file into a new output of the target store; the output is discarded if anything fails.
        private func copy(_ file: StoredFile, to path: String, buffer: UnsafeMutableRawBufferPointer, _ context: any NodeContext) async throws -> (any PendingCommit, Int) {
            let input = try await source.store.open(file)
            let output: any FileDestination
            do { output = try await target.store.create(path, runID: context.runID) } catch let error as ConfigError {
                throw NodeError(code: error.code, message: error.message)
            }
            do {
                while true {
                    let n = try await input.read(into: buffer)
                    if n == 0 { break }
                    try output.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                    context.addBytes(n)
                }
                return (try await output.finish(), output.bytesWritten)
            } catch {
                await output.discard()
                throw error
            }
        }
    }
}

/// The commits of several outputs made one: committed in order, all aborted together.
struct CommitAll: PendingCommit {
    let commits: [any PendingCommit]

    init(_ commits: [any PendingCommit]) { self.commits = commits }

    func commit() async throws {
        for (i, commit) in commits.enumerated() {
            do { try await commit.commit() } catch {
                for rest in commits[(i + 1)...] { await rest.abort() }
                throw error
            }
        }
    }

    func abort() async {
        for commit in commits { await commit.abort() }
    }
}

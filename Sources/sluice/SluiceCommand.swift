import ArgumentParser

/// The `sluice` command line: run, validate and preview pipelines, list node types, scaffold a project.
@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Sluice: build, run and watch data pipelines.",
        version: "0.1.0",
        subcommands: [RunCommand.self, ValidateCommand.self, PreviewCommand.self, NodesCommand.self, DiscoverCommand.self, InitCommand.self, CronCommand.self,
                      ServeCommand.self, WorkerCommand.self, UserCommand.self, KeysCommand.self, TriggersCommand.self, TestCommand.self, ModelsCommand.self])
}

/// Exit statuses, chosen once here: 0 succeeded, 1 run failed, 2 invalid pipeline or usage, 130 interrupted.
enum ExitStatus {
    static let failed = ExitCode(1)
    static let invalid = ExitCode(2)
    static let interrupted = ExitCode(130)
}

import ArgumentParser

extension Hexfleet {
    /// Every subcommand; each lives in its own file.
    static let subcommandList: [any ParsableCommand.Type] = [
        ServeCommand.self,
        VersionCommand.self,
        H3Command.self,
        ImportOSMCommand.self,
        RouteCommand.self,
        MatrixCommand.self,
        ExportGraphCommand.self,
        MatchCommand.self,
        PlanCommand.self,
        SimulateCommand.self,
    ]
}

/// `hexfleet version`: prints the version.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    func run() { print("hexfleet 0.1.0") }
}

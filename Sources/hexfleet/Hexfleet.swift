import ArgumentParser

/// The `hexfleet` command: one executable, a subcommand per job.
@main
struct Hexfleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hexfleet",
        abstract: "Real-time dispatch and geolocation engine.",
        subcommands: Hexfleet.subcommandList)
}

import Engine
import Testing

/// `--node NAME` / `HEXFLEET_NODE` and `--partition-resolution R` (docs/cluster.md, docs/configuration.md).
@Suite struct ClusterSettingTests {
    private let cluster = ["postgres": ["postgresql://h@127.0.0.1:5432/db"], "nats": ["nats://127.0.0.1:4222"]]

    @Test("without --node nothing is clustered; the partition resolution defaults to 3")
    func defaults() throws {
        let c = try ServeConfiguration.resolve(flags: [:], environment: [:], file: nil)
        #expect(c.engine.cluster.node == nil)
        #expect(c.engine.cluster.partitionResolution == 3)
    }

    @Test("--node with --postgres and --nats is cluster mode; the name also comes from HEXFLEET_NODE; R is read 0…15")
    func clusterMode() throws {
        var flags = cluster
        flags["node"] = ["edge-1_a-b"]
        flags["partition_resolution"] = ["5"]
        let c = try ServeConfiguration.resolve(flags: flags, environment: [:], file: nil)
        #expect(c.engine.cluster.node == "edge-1_a-b")
        #expect(c.engine.cluster.partitionResolution == 5)
        let env = try ServeConfiguration.resolve(flags: cluster, environment: ["HEXFLEET_NODE": "n2", "HEXFLEET_PARTITION_RESOLUTION": "0"],
                                                 file: nil)
        #expect(env.engine.cluster.node == "n2")
        #expect(env.engine.cluster.partitionResolution == 0)
    }

    @Test("a partition resolution outside 0…15 or not a number is a usage error naming the flag", arguments: ["16", "-1", "three", ""])
    func badResolution(value: String) {
        do {
            _ = try ServeConfiguration.resolve(flags: ["partition_resolution": [value]], environment: [:], file: nil)
            Issue.record("accepted \(value)")
        } catch let error as ConfigurationError {
            #expect(error.isFlagError)
            #expect(error.description.contains("--partition-resolution"), "\(error)")
        } catch {
            Issue.record("not a ConfigurationError: \(error)")
        }
    }

    @Test("a node name with other characters, or longer than 64, is refused naming the flag", arguments: [
        "a b", "n/1", "a.b", "a*", "a>", "é", String(repeating: "n", count: 65), "x>y",
    ])
    func badName(value: String) {
        var flags = cluster
        flags["node"] = [value]
        do {
            _ = try ServeConfiguration.resolve(flags: flags, environment: [:], file: nil)
            Issue.record("accepted \(value)")
        } catch let error as ConfigurationError {
            #expect(error.isFlagError)
            #expect(error.description.contains("--node"), "\(error)")
        } catch {
            Issue.record("not a ConfigurationError: \(error)")
        }
    }

    @Test("--node without --postgres or --nats is a usage error naming the flag and what is missing")
    func needsPostgresAndNats() {
        let cases: [([String: [String]], String)] = [
            (["node": ["n1"]], "--postgres and --nats"),
            (["node": ["n1"], "nats": ["nats://127.0.0.1:4222"]], "--postgres"),
            (["node": ["n1"], "postgres": ["postgresql://h@127.0.0.1/db"]], "--nats"),
        ]
        for (flags, missing) in cases {
            do {
                _ = try ServeConfiguration.resolve(flags: flags, environment: [:], file: nil)
                Issue.record("accepted \(flags.keys.sorted())")
            } catch let error as ConfigurationError {
                #expect(error.isFlagError)
                #expect(error.description.contains("--node") && error.description.contains(missing), "\(error)")
            } catch {
                Issue.record("not a ConfigurationError: \(error)")
            }
        }
        // Partitions are parents of the index's cells: R above the index resolution is refused, naming the flag.
        var fine = cluster
        fine["node"] = ["n1"]
        fine["partition_resolution"] = ["10"]
        do {
            _ = try ServeConfiguration.resolve(flags: fine, environment: [:], file: nil)
            Issue.record("accepted a partition resolution finer than the index")
        } catch let error as ConfigurationError {
            #expect(error.isFlagError && error.description.contains("--partition-resolution"), "\(error)")
        } catch {
            Issue.record("not a ConfigurationError: \(error)")
        }
        // From the environment it is a configuration error naming the variable.
        #expect(throws: ConfigurationError.self) {
            _ = try ServeConfiguration.resolve(flags: [:], environment: ["HEXFLEET_NODE": "n1"], file: nil)
        }
    }
}

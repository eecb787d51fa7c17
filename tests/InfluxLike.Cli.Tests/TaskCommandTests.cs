using InfluxLike.Testing;

namespace InfluxLike.Cli.Tests;

/// <summary><c>influxlike task …</c> against a running server: create from a file, list, run now, runs, disable, delete, errors.</summary>
public class TaskCommandTests
{
    private const string Token = "cli-task-token-0123456789";

    [Fact]
    public async Task Task_commands_drive_the_task_api()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "influxlike-cli-task-" + Guid.NewGuid().ToString("N"));
        string script = Path.Combine(Path.GetTempPath(), "influxlike-task-" + Guid.NewGuid().ToString("N") + ".flux");
        await File.WriteAllTextAsync(script, "option task = {name: \"copy-cpu\", every: 1h}\n\nfrom(bucket: \"b\") |> range(start: -task.every) |> to(bucket: \"nowhere\")\n");
        await using var server = await ServerProcess.StartAsync(
            ["serve", "--http-bind-address", "127.0.0.1:0", "--data-dir", dataDir, "--init-org", "o", "--init-bucket", "b", "--init-token", Token, "--tasks-enabled", "false"]);
        try
        {
            string host = server.BaseAddress.ToString();
            Task<(int ExitCode, string Output)> Cli(params string[] args) =>
                ServerProcess.RunToExitAsync(["task", .. args, "--host", host, "--token", Token, "--org", "o"], TimeSpan.FromSeconds(60));

            var created = await Cli("create", "--file", script);
            Assert.True(created.ExitCode == 0, created.Output);
            string id = created.Output.Trim().Split('\t')[0];
            Assert.Contains("copy-cpu", created.Output, StringComparison.Ordinal);

            var list = await Cli("list");
            Assert.Contains($"{id}\tactive\t1h\tcopy-cpu", list.Output, StringComparison.Ordinal);

            var run = await Cli("run", id);
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("failed", run.Output, StringComparison.Ordinal); // the bucket it writes to does not exist
            Assert.Contains("nowhere", (await Cli("runs", id)).Output, StringComparison.Ordinal);

            Assert.Contains("inactive", (await Cli("disable", id)).Output, StringComparison.Ordinal);
            Assert.Equal(0, (await Cli("delete", id)).ExitCode);
            var missing = await Cli("run", id);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("404", missing.Output, StringComparison.Ordinal);

            var noFile = await Cli("create");
            Assert.Equal(2, noFile.ExitCode);
            Assert.Contains("--file is required", noFile.Output, StringComparison.Ordinal);
        }
        finally
        {
            await server.TerminateAsync(TimeSpan.FromSeconds(20));
            File.Delete(script);
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }
}

using System.CommandLine;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Wal;

namespace InfluxLike.Cli;

/// <summary>
/// <c>influxlike inspect PATH [--dump] [--values]</c>: offline checks of a data folder (or one file) without a
/// server: every TSM file decoded and its checksums verified, every tombstone file read, every WAL folder
/// replayed. Prints one line per file; exits 1 when something is damaged (file and offset named), 2 on bad usage.
/// </summary>
internal static class InspectCommand
{
    public static Command Build()
    {
        var path = new Argument<string>("path") { Description = "a data folder, a shard folder or one .tsm file" };
        var dump = new Option<bool>("--dump") { Description = "for a .tsm file: list its keys and blocks" };
        var values = new Option<bool>("--values") { Description = "with --dump: print every point too" };
        var command = new Command("inspect", "Verify (and dump) TSM, tombstone and WAL files offline") { path, dump, values };
        command.SetAction(r =>
        {
            string target = r.GetValue(path)!;
            if (File.Exists(target) && target.EndsWith(".tsm", StringComparison.Ordinal) && r.GetValue(dump))
            {
                TsmInspector.Dump(target, Console.Out, r.GetValue(values));
                return 0;
            }

            string[] tsm = File.Exists(target) ? [target] : Directory.Exists(target) ? Directory.GetFiles(target, "*" + ".tsm", SearchOption.AllDirectories) : [];
            if (tsm.Length == 0 && !Directory.Exists(target))
            {
                Console.Error.WriteLine($"error: {target} is neither a folder nor a file");
                return 2;
            }

            int problems = 0;
            foreach (string file in tsm.Order(StringComparer.Ordinal))
            {
                TsmVerifyReport report = TsmInspector.Verify(file);
                Console.WriteLine($"{(report.Ok ? "ok  " : "BAD ")} {file}: {report.Keys} keys, {report.Blocks} blocks, {report.Points} points, {report.Size} bytes");
                foreach (string problem in report.Problems)
                {
                    Console.WriteLine("     " + problem);
                    problems++;
                }

                string tombstones = file + ".tombstone";
                if (File.Exists(tombstones))
                {
                    try
                    {
                        TombstoneSet.Load(tombstones);
                        Console.WriteLine($"ok   {tombstones}");
                    }
                    catch (Storage.CorruptionException e)
                    {
                        Console.WriteLine($"BAD  {e.Message}");
                        problems++;
                    }
                }
            }

            if (Directory.Exists(target))
            {
                foreach (string wal in Directory.GetDirectories(target, "wal", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var warnings = new List<string>();
                    long entries = 0;
                    try
                    {
                        foreach (WalRecord _ in WriteAheadLog.Replay(wal, warnings.Add))
                        {
                            entries++;
                        }

                        Console.WriteLine($"{(warnings.Count == 0 ? "ok  " : "warn")} {wal}: {entries} entries");
                        warnings.ForEach(w => Console.WriteLine("     " + w));
                    }
                    catch (Storage.CorruptionException e)
                    {
                        Console.WriteLine($"BAD  {e.Message}");
                        problems++;
                    }
                }
            }

            Console.WriteLine(problems == 0 ? "no problem found" : $"{problems} problems found");
            return problems == 0 ? 0 : 1;
        });
        return command;
    }
}

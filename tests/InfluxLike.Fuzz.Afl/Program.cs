using System.Globalization;
using SharpFuzz;

namespace InfluxLike.Fuzz;

/// <summary>
/// The AFL++ harness (scripts/fuzz.sh runs it; see docs/RELIABILITY.md, "Fuzzing"):
/// <list type="bullet">
/// <item><c>fuzz TARGET</c>: SharpFuzz's out-of-process fork server. afl-fuzz feeds inputs on standard input; a
/// body that throws (an undocumented exception or a violated property) is reported as a crash, a stack overflow
/// kills the child (a crash too; the fork server starts another), afl-fuzz's <c>-t</c> finds hangs.</item>
/// <item><c>seeds TARGET DIR</c>: writes the target's seed corpus into DIR, one file a seed.</item>
/// <item><c>replay TARGET FILE...</c>: runs files through the target as the CsCheck campaign does (5 s limit),
/// printing what each does: for crashes and hangs AFL++ saved, and for afl-tmin.</item>
/// </list>
/// </summary>
internal static class Program
{
    private static readonly TimeSpan ReplayTimeLimit = TimeSpan.FromSeconds(5);

    public static int Main(string[] args)
    {
        FuzzTarget? target = args.Length >= 2 ? FuzzTargets.Find(args[1]) : null;
        if (target is null)
        {
            Console.Error.WriteLine($"usage: fuzz TARGET | seeds TARGET DIR | replay TARGET FILE..., with TARGET one of {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
            return 2;
        }

        switch (args[0])
        {
            case "fuzz":
                Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var input = new MemoryStream();
                    stream.CopyTo(input);
                    FuzzGuard.Run(input.ToArray(), target.Body, FuzzGuard.Show);
                });
                return 0;
            case "seeds" when args.Length == 3:
                Directory.CreateDirectory(args[2]);
                IReadOnlyList<byte[]> seeds = target.Seeds();
                for (int i = 0; i < seeds.Count; i++)
                {
                    File.WriteAllBytes(Path.Combine(args[2], $"seed-{i.ToString("D4", CultureInfo.InvariantCulture)}"), seeds[i]);
                }

                Console.WriteLine($"{seeds.Count} seeds for {target.Name} in {args[2]}");
                return 0;
            case "replay":
                return Replay(target, args[2..]);
            default:
                Console.Error.WriteLine($"unknown command {args[0]}");
                return 2;
        }
    }

    private static int Replay(FuzzTarget target, string[] files)
    {
        int failed = 0;
        foreach (string file in files)
        {
            try
            {
                FuzzGuard.Run(File.ReadAllBytes(file), target.Body, FuzzGuard.Show, ReplayTimeLimit);
                Console.WriteLine($"ok      {file}");
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                failed++;
                Console.WriteLine($"FAILED  {file}: {e.Message}");
                Console.WriteLine(e.InnerException?.ToString() ?? e.ToString());
            }
        }

        return failed == 0 ? 0 : 1;
    }
}

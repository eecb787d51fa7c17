using BenchmarkDotNet.Running;

namespace InfluxLike.Benchmarks;

internal static class Program
{
    // dotnet run -c Release --project perf/InfluxLike.Benchmarks -- --filter '*LineProtocol*'
    // dotnet run -c Release --project perf/InfluxLike.Benchmarks -- tsm-size FILE [points-per-block]
    //                                                                engine-ingest FILE [WRITERS] [SNAPSHOT-MIB] [ROUNDS]
    //                                                                series-index SERIES [DIR]
    //                                                                soak SECONDS [WRITERS] | flood SECONDS
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "engine-ingest")
        {
            EngineIngestTool.RunAsync(args[1..]).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 1 && args[0] == "engine-open")
        {
            EngineIngestTool.OpenAsync(args[1]).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "query-tsbs")
        {
            QueryTsbsTool.RunAsync(args[1..]).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "series-index")
        {
            SeriesIndexTool.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] is "compaction" or "blocks" or "delete-series")
        {
            CompactionTool.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 1 && args[0] is "soak" or "flood")
        {
            SoakTool.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "tsm-size")
        {
            TsmSizeTool.Run(args[1..]);
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}

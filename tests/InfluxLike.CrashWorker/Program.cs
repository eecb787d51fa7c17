using System.Globalization;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Shards;

namespace InfluxLike.CrashWorker;

/// <summary>
/// <c>CrashWorker DATA_DIR FIRST_BATCH</c>: four concurrent writers each write batches (batch b: series
/// m,w=W,s=0..9 at time b seconds, value b) and print <c>ack W b</c> once the engine acknowledged it; every
/// few batches a snapshot runs, so kills land during snapshots too. Runs until killed.
/// </summary>
internal static class Program
{
    public static async Task Main(string[] args)
    {
        string dataDir = args[0];
        long first = long.Parse(args[1], CultureInfo.InvariantCulture);
        await using var engine = StorageEngine.Open(dataDir, new EngineOptions { Shard = new ShardOptions { MaxPointsPerBlock = 100 } });
        OrgInfo org = engine.Catalog.GetOrCreateOrg("crash");
        BucketInfo bucket = engine.Catalog.FindBucket(org.Id, "b") ?? engine.Catalog.CreateBucket(org.Id, "b", TimeSpan.Zero, TimeSpan.FromMinutes(10));
        var stdout = Console.Out;
        var gate = new object();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (long b = first; ; b++)
            {
                var body = new StringBuilder();
                for (int s = 0; s < 10; s++)
                {
                    body.Append(CultureInfo.InvariantCulture, $"m,w={w},s={s} v={b} {b}\n");
                }

                WriteResult r = await engine.WriteLineProtocolAsync(bucket, Encoding.UTF8.GetBytes(body.ToString()), Precision.Seconds, 0);
                if (!r.Complete)
                {
                    throw new InvalidOperationException("unexpected partial write");
                }

                lock (gate)
                {
                    stdout.WriteLine($"ack {w} {b}");
                    stdout.Flush();
                }

                if (w == 0 && b % 25 == 0)
                {
                    await engine.SnapshotAllAsync();
                }
            }
        })).ToArray();
        await Task.WhenAll(writers);
    }
}

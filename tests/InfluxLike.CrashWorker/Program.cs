using System.Globalization;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Index;
using InfluxLike.Storage.Shards;

namespace InfluxLike.CrashWorker;

/// <summary>
/// <c>CrashWorker DATA_DIR FIRST_BATCH [maintenance]</c>: four concurrent writers each write batches (batch
/// b: series m,w=W,s=0..9 at time b seconds, value b) and print <c>ack W b</c> once the engine acknowledged
/// it; every few batches a snapshot runs, so kills land during snapshots too. Runs until killed.
/// With <c>maintenance</c>, compactions (level and full) run all the time, writer 1 deletes the point of
/// series s=9 written five batches earlier (printing <c>del 1 9 T</c> once acknowledged), and writer 0 also
/// writes bucket r (1 h retention, batch b at b minutes) while a retention loop drops its shards by a clock
/// that follows writer 0's batches (printing <c>clock B</c> before each use), so kills land during
/// compactions, deletes and shard drops.
/// With <c>backup BACKUP_DIR</c>, online backups of bucket b run one after another: each copies the files into
/// <c>BACKUP_DIR/tmp-N</c>, renames that to <c>BACKUP_DIR/N</c> and prints <c>backup N B</c>, where every
/// writer's batches up to B were acknowledged before the backup started; so kills land during backups too.
/// </summary>
internal static class Program
{
    private static long _clockBatch;

    public static async Task Main(string[] args)
    {
        string dataDir = args[0];
        long first = long.Parse(args[1], CultureInfo.InvariantCulture);
        bool maintenance = args.Length > 2 && args[2] == "maintenance";
        string? backups = args.Length > 3 && args[2] == "backup" ? args[3] : null;
        long[] lastAcked = new long[4];
        Array.Fill(lastAcked, first - 1);
        _clockBatch = first;
        await using var engine = StorageEngine.Open(dataDir, new EngineOptions
        {
            Shard = new ShardOptions { MaxPointsPerBlock = 100 },
            Clock = () => DateTimeOffset.UnixEpoch.AddMinutes(Volatile.Read(ref _clockBatch)),
            CompactThroughputBytesPerSecond = 0,
        });
        OrgInfo org = engine.Catalog.GetOrCreateOrg("crash");
        BucketInfo bucket = engine.Catalog.FindBucket(org.Id, "b") ?? engine.Catalog.CreateBucket(org.Id, "b", TimeSpan.Zero, TimeSpan.FromMinutes(10));
        BucketInfo retained = engine.Catalog.FindBucket(org.Id, "r") ?? engine.Catalog.CreateBucket(org.Id, "r", TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
        var stdout = Console.Out;
        var gate = new object();
        void Say(string line)
        {
            lock (gate)
            {
                stdout.WriteLine(line);
                stdout.Flush();
            }
        }

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
                if (maintenance && w == 0)
                {
                    Volatile.Write(ref _clockBatch, b);
                    WriteResult rr = await engine.WriteLineProtocolAsync(retained, Encoding.UTF8.GetBytes($"r v={b} {b * 60}\n"), Precision.Seconds, 0);
                    if (!rr.Complete)
                    {
                        throw new InvalidOperationException("unexpected partial write to r: " + string.Join("; ", rr.Rejected));
                    }
                }

                if (!r.Complete)
                {
                    throw new InvalidOperationException("unexpected partial write");
                }

                Say($"ack {w} {b}");
                Volatile.Write(ref lastAcked[w], b);
                if (w == 0 && b % (maintenance ? 5 : 25) == 0)
                {
                    await engine.SnapshotAllAsync();
                }

                if (maintenance && w == 1 && b % 3 == 0 && b - 5 >= first)
                {
                    long t = (b - 5) * 1_000_000_000L;
                    await engine.DeleteAsync(bucket, new SeriesPredicate.MeasurementEquals("m") & new SeriesPredicate.TagEquals("w", "1") & new SeriesPredicate.TagEquals("s", "9"), (_, _, _) => true, t, t);
                    Say($"del 1 9 {b - 5}");
                }
            }
        })).ToList();

        if (maintenance)
        {
            writers.Add(Task.Run(async () =>
            {
                for (int round = 0; ; round++)
                {
                    await engine.CompactAsync(full: round % 4 == 3);
                    await Task.Delay(20);
                }
            }));
            writers.Add(Task.Run(async () =>
            {
                while (true)
                {
                    Say($"clock {Volatile.Read(ref _clockBatch)}");
                    await engine.EnforceRetentionAsync();
                    await Task.Delay(50);
                }
            }));
        }

        if (backups is not null)
        {
            writers.Add(Task.Run(async () =>
            {
                Directory.CreateDirectory(backups);
                int n = Directory.GetDirectories(backups).Length;
                for (; ; n++)
                {
                    long covered = long.MaxValue;
                    for (int w = 0; w < lastAcked.Length; w++)
                    {
                        covered = Math.Min(covered, Volatile.Read(ref lastAcked[w]));
                    }

                    string tmp = Path.Combine(backups, "tmp-" + n.ToString(CultureInfo.InvariantCulture));
                    await engine.BackupAsync(bucket, (shard, name, path) =>
                    {
                        string dir = Path.Combine(tmp, shard);
                        Directory.CreateDirectory(dir);
                        File.Copy(path, Path.Combine(dir, name));
                        return Task.CompletedTask;
                    });
                    Directory.Move(tmp, Path.Combine(backups, n.ToString(CultureInfo.InvariantCulture)));
                    Say($"backup {n} {covered}");
                    await Task.Delay(50);
                }
            }));
        }

        await Task.WhenAll(writers);
    }
}

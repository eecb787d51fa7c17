using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm;
using InfluxLike.Testing;

namespace InfluxLike.Storage.Tests;

/// <summary>
/// testdata/golden-v1.tsm was written by this code when format version 1 was set; it must always read
/// back to exactly the values below. If this fails, the format changed: bump TsmFormat.Version on
/// purpose, keep a reader for version 1, and add a new golden file. Regenerate (only then) with
/// INFLUXLIKE_WRITE_GOLDEN=1.
/// </summary>
public class TsmGoldenFileTests
{
    private static string GoldenPath => Path.Combine(RepoPaths.Root, "tests", "InfluxLike.Storage.Tests", "testdata", "golden-v1.tsm");

    private static void WriteGolden(TsmWriter w)
    {
        long[] ts = [.. Enumerable.Range(0, 1500).Select(i => 1_767_225_600_000_000_000L + (i * 10_000_000_000L))];
        long[] irregular = [.. ts.Select((t, i) => t + (i % 7 * 1_000_000))];
        double[] walk = [.. Enumerable.Range(0, 1500).Select(i => 50 + (20 * Math.Sin(i / 17.0)) + (i % 5 * 0.001))];
        double[] decimals = [.. walk.Select(v => Math.Round(v, 2))];
        double[] special = [.. Enumerable.Range(0, 1500).Select(i => (i % 6) switch { 0 => double.NaN, 1 => double.PositiveInfinity, 2 => -0.0, 3 => double.Epsilon, 4 => 1.0 / 3, _ => -1e300 })];
        using var strings = new StringColumn();
        for (int i = 0; i < 1500; i++)
        {
            strings.Add($"line {i} 日本 \"q\"");
        }

        w.WriteFloats("cpu,host=a"u8, "decimals"u8, ts, decimals);
        w.WriteFloats("cpu,host=a"u8, "special"u8, ts, special);
        w.WriteFloats("cpu,host=a"u8, "walk"u8, irregular, walk);
        w.WriteIntegers("cpu,host=b"u8, "count"u8, ts, [.. ts.Select((_, i) => (long)i * i - 1000)]);
        w.WriteStrings("cpu,host=b"u8, "msg"u8, ts, strings);
        w.WriteBooleans("cpu,host=b"u8, "ok"u8, ts, [.. ts.Select((_, i) => i % 3 == 0)]);
        w.WriteUnsigned("cpu,host=b"u8, "u"u8, ts, [.. ts.Select((_, i) => ulong.MaxValue - (ulong)i)]);
    }

    [Fact]
    public void Golden_file_reads_back_the_same_values()
    {
        if (Environment.GetEnvironmentVariable("INFLUXLIKE_WRITE_GOLDEN") == "1")
        {
            using var w = new TsmWriter(GoldenPath);
            WriteGolden(w);
            w.Finish();
        }

        using var dir = new TempDir();
        string fresh = dir.File("fresh.tsm");
        using (var w = new TsmWriter(fresh))
        {
            WriteGolden(w);
            w.Finish();
        }

        byte[] golden = File.ReadAllBytes(GoldenPath);
        Assert.Equal(TsmFormat.Version, golden[4]);
        Assert.Equal(Dump(fresh), Dump(GoldenPath));
        Assert.True(TsmInspector.Verify(GoldenPath).Ok);
    }

    private static string Dump(string path)
    {
        var text = new StringWriter();
        TsmInspector.Dump(path, text, values: true);
        return text.ToString()[text.ToString().IndexOf('\n')..]; // skip the line naming the file
    }
}

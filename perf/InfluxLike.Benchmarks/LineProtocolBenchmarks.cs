using BenchmarkDotNet.Attributes;
using InfluxLike.LineProtocol;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Parse throughput of <see cref="LineProtocolReader"/>: every line fully parsed (names, sorted tags, typed
/// field values, timestamp) and its values touched. One "operation" is one line, so BenchmarkDotNet's
/// time and allocation columns read per line; MB/s = bytes per line / time per line.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
[MaxColumn]
public class LineProtocolBenchmarks
{
    // Lines per invocation of each benchmark (set from the data in GlobalSetup; OperationsPerInvoke needs a constant).
    private const int TsbsLines = 20_000;
    private const int EscapeLines = 20_000;

    private byte[] _tsbs = [];
    private byte[] _escapes = [];

    [GlobalSetup]
    public void Setup()
    {
        byte[] all = Workloads.TsbsCpu(64 << 20);
        int end = 0;
        for (int i = 0; i < TsbsLines; i++)
        {
            end = all.AsSpan(end).IndexOf((byte)'\n') + end + 1;
        }

        _tsbs = all[..end];
        _escapes = Workloads.EscapesAndStrings(EscapeLines);
        Console.WriteLine($"// tsbs: {_tsbs.Length / (double)TsbsLines:F1} bytes/line; escapes: {_escapes.Length / (double)EscapeLines:F1} bytes/line");
    }

    /// <summary>
    /// Same-session yardstick for the noisy shared machine: only finding the line ends of the same bytes
    /// (vectorised IndexOf). Ratios against it travel between runs better than raw times.
    /// </summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TsbsLines)]
    public int TsbsLineSplitOnly()
    {
        ReadOnlySpan<byte> data = _tsbs;
        int lines = 0;
        int i;
        while ((i = data.IndexOf((byte)'\n')) >= 0)
        {
            lines++;
            data = data[(i + 1)..];
        }

        return lines;
    }

    [Benchmark(OperationsPerInvoke = TsbsLines)]
    public double TsbsCpu() => ParseAll(_tsbs);

    /// <summary>Parsing alone (every line still fully validated), without reading the parts back.</summary>
    [Benchmark(OperationsPerInvoke = TsbsLines)]
    public long TsbsCpuParseOnly()
    {
        long sum = 0;
        var reader = new LineProtocolReader(_tsbs);
        while (reader.Read())
        {
            sum += reader.FieldCount;
        }

        reader.Dispose();
        return sum;
    }

    [Benchmark(OperationsPerInvoke = EscapeLines)]
    public double EscapesAndStrings() => ParseAll(_escapes);

    private static double ParseAll(ReadOnlySpan<byte> data)
    {
        double sum = 0;
        Span<byte> scratch = stackalloc byte[256];
        var reader = new LineProtocolReader(data, new LineProtocolReaderOptions { DefaultTimestamp = 1 });
        while (reader.Read())
        {
            if (reader.Error is not null)
            {
                throw new InvalidOperationException(reader.Error.ToString());
            }

            sum += reader.Measurement.Unescape(scratch).Length;
            for (int i = 0; i < reader.TagCount; i++)
            {
                LineTag t = reader.GetTag(i);
                sum += t.Key.Unescape(scratch).Length + t.Value.Unescape(scratch).Length;
            }

            for (int i = 0; i < reader.FieldCount; i++)
            {
                LineField f = reader.GetField(i);
                sum += f.Key.Raw.Length;
                sum += f.Type switch
                {
                    FieldType.Float => f.FloatValue,
                    FieldType.String => f.StringValue.Unescape(scratch).Length,
                    _ => f.RawBits,
                };
            }

            sum += reader.Timestamp & 1;
        }

        reader.Dispose();
        return sum;
    }
}

using System.Globalization;
using BenchmarkDotNet.Attributes;
using InfluxLike.LineProtocol;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Shortest round-trip float text, as the CSV writer needs it for every <c>_value</c>: Ryū against the runtime's
/// "R" (Grisu3 with a Dragon4 fallback). 1,024 values per call: TSBS-like readings (two-digit integer part, 14–17
/// significant digits), short decimals (what sensors send), and magnitudes spread from 1e-9 to 1e9.
/// </summary>
[MemoryDiagnoser]
public class FloatFormattingBenchmarks
{
    private readonly char[] _buffer = new char[ShortestFloat.MaxFixedLength];
    private double[] _values = [];

    [Params("tsbs", "short", "wide")]
    public string Kind { get; set; } = "tsbs";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _values = new double[1024];
        for (int i = 0; i < _values.Length; i++)
        {
            _values[i] = Kind switch
            {
                "tsbs" => random.NextDouble() * 100,
                "short" => Math.Round(random.NextDouble() * 1000, 2),
                _ => Math.Pow(10, (random.NextDouble() * 18) - 9) * (random.Next(2) == 0 ? -1 : 1),
            };
        }
    }

    [Benchmark(Baseline = true)]
    public int Runtime()
    {
        int total = 0;
        foreach (double v in _values)
        {
            v.TryFormat(_buffer, out int written, "R", CultureInfo.InvariantCulture);
            total += written;
        }

        return total;
    }

    [Benchmark]
    public int Ryu()
    {
        int total = 0;
        foreach (double v in _values)
        {
            total += ShortestFloat.FormatFixed(v, _buffer);
        }

        return total;
    }
}

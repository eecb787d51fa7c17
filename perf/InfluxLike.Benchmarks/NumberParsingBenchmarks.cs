using BenchmarkDotNet.Attributes;
using InfluxLike.LineProtocol;

namespace InfluxLike.Benchmarks;

/// <summary>Float parsing cost by digit count: the bulk of a TSBS line's parse time.</summary>
[MemoryDiagnoser]
public class NumberParsingBenchmarks
{
    private readonly byte[] _digits15 = "58.1317132304976"u8.ToArray();
    private readonly byte[] _digits17 = "2.6224297271376256"u8.ToArray();
    private readonly byte[] _decimals2 = "58.13"u8.ToArray();

    [Benchmark]
    public double Digits15() => NumberParsing.TryParseDouble(_digits15, out double d) == NumberStatus.Ok ? d : 0;

    [Benchmark]
    public double Digits17() => NumberParsing.TryParseDouble(_digits17, out double d) == NumberStatus.Ok ? d : 0;

    [Benchmark]
    public double Decimals2() => NumberParsing.TryParseDouble(_decimals2, out double d) == NumberStatus.Ok ? d : 0;

    [Benchmark(Baseline = true)]
    public double RuntimeDigits17() => double.Parse(_digits17, System.Globalization.CultureInfo.InvariantCulture);
}

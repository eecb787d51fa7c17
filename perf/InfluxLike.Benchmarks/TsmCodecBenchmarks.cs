using BenchmarkDotNet.Attributes;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Encode and decode of one 1000-point block per data set. One operation is one point, so the time
/// column reads per point (values/s = 1e9 / ns) and Decode* measures timestamp+value pairs.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TsmCodecBenchmarks
{
    private const int N = 1000;

    private readonly long[] _ts = new long[N];
    private readonly double[] _floats = new double[N];
    private readonly long[] _ints = new long[N];
    private readonly long[] _outTs = new long[N];
    private readonly double[] _outFloats = new double[N];
    private readonly long[] _outInts = new long[N];
    private readonly ByteWriter _writer = new(64 << 10);
    private byte[] _block = [];
    private byte[] _intBlock = [];

    [Params("tsbs", "tsbs-2dec", "counter", "constant", "random")]
    public string Data { get; set; } = "tsbs";

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(5);
        if (Data.StartsWith("tsbs", StringComparison.Ordinal))
        {
            // One field of one host from the real workload: usage_user of the first series, 1000 points.
            byte[] lp = Workloads.TsbsCpu(64 << 20, hours: 24);
            var reader = new LineProtocolReader(lp);
            int n = 0;
            while (reader.Read() && n < N)
            {
                if (reader.GetTag(2).Key.Raw.SequenceEqual("hostname"u8) && reader.GetTag(2).Value.Raw.SequenceEqual("host_0"u8))
                {
                    _ts[n] = reader.Timestamp;
                    double v = reader.GetField(0).FloatValue;
                    _floats[n++] = Data == "tsbs-2dec" ? Math.Round(v, 2, MidpointRounding.AwayFromZero) : v;
                }
            }

            reader.Dispose();
            if (n < N)
            {
                throw new InvalidOperationException($"only {n} points of host_0 in the workload");
            }
        }
        else
        {
            long counter = 0;
            for (int i = 0; i < N; i++)
            {
                _ts[i] = 1_767_225_600_000_000_000L + (i * 10_000_000_000L);
                _floats[i] = Data switch
                {
                    "counter" => counter += rng.Next(0, 50),
                    "constant" => 42.5,
                    _ => rng.NextDouble() * 1e6,
                };
            }
        }

        for (int i = 0; i < N; i++)
        {
            _ints[i] = (long)_floats[i];
        }

        _writer.Clear();
        TsmBlock.EncodeFloats(_ts, _floats, _writer);
        _block = _writer.WrittenSpan.ToArray();
        _writer.Clear();
        TsmBlock.EncodeIntegers(_ts, _ints, _writer);
        _intBlock = _writer.WrittenSpan.ToArray();
        Console.WriteLine($"// {Data}: float block {_block.Length} bytes = {_block.Length / (double)N:F3} bytes/point, integer block {_intBlock.Length} bytes");
    }

    [Benchmark(OperationsPerInvoke = N)]
    public int EncodeFloatBlock()
    {
        _writer.Clear();
        TsmBlock.EncodeFloats(_ts, _floats, _writer);
        return _writer.Length;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double DecodeFloatBlock()
    {
        TsmBlock.TryReadHeader(_block, out BlockHeader h, out _);
        TsmBlock.TryDecodeTimestamps(_block, h, _outTs);
        TsmBlock.TryDecodeFloats(_block, h, _outFloats);
        return _outFloats[N - 1];
    }

    [Benchmark(OperationsPerInvoke = N)]
    public int EncodeIntegerBlock()
    {
        _writer.Clear();
        TsmBlock.EncodeIntegers(_ts, _ints, _writer);
        return _writer.Length;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public long DecodeIntegerBlock()
    {
        ReadOnlySpan<byte> block = _intBlock;
        TsmBlock.TryReadHeader(block, out BlockHeader h, out _);
        TsmBlock.TryDecodeTimestamps(block, h, _outTs);
        TsmBlock.TryDecodeIntegers(block, h, _outInts);
        return _outInts[N - 1];
    }
}

using BenchmarkDotNet.Attributes;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Tsm.Encoding;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Encode and decode of 1000-point blocks of the remaining types: unsigned counters, booleans (a status
/// flag that flips now and then), strings (log-like lines with repeating structure). One operation is
/// one point.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TsmOtherTypesBenchmarks
{
    private const int N = 1000;

    private readonly long[] _ts = new long[N];
    private readonly ulong[] _unsigned = new ulong[N];
    private readonly bool[] _bools = new bool[N];
    private readonly StringColumn _strings = new();
    private readonly long[] _outTs = new long[N];
    private readonly ulong[] _outUnsigned = new ulong[N];
    private readonly bool[] _outBools = new bool[N];
    private readonly StringColumn _outStrings = new();
    private readonly ByteWriter _writer = new(64 << 10);
    private byte[] _unsignedBlock = [];
    private byte[] _boolBlock = [];
    private byte[] _stringBlock = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(8);
        ulong counter = 1UL << 40;
        bool flag = false;
        for (int i = 0; i < N; i++)
        {
            _ts[i] = 1_767_225_600_000_000_000L + (i * 10_000_000_000L);
            _unsigned[i] = counter += (ulong)rng.Next(0, 5000);
            if (rng.Next(20) == 0)
            {
                flag = !flag;
            }

            _bools[i] = flag;
            _strings.Add($"GET /api/v2/query?org=o{rng.Next(5)} 200 {rng.Next(1, 900)}ms user=u{rng.Next(50)} agent=\"influxdb-client-js/1.35.0\"");
        }

        _unsignedBlock = Encode(w => TsmBlock.EncodeUnsigned(_ts, _unsigned, w));
        _boolBlock = Encode(w => TsmBlock.EncodeBooleans(_ts, _bools, w));
        _stringBlock = Encode(w => TsmBlock.EncodeStrings(_ts, _strings, w));
        Console.WriteLine($"// unsigned {_unsignedBlock.Length / (double)N:F3} B/pt, boolean {_boolBlock.Length / (double)N:F3} B/pt, string {_stringBlock.Length / (double)N:F3} B/pt (raw strings {Enumerable.Range(0, N).Sum(i => _strings[i].Length) / (double)N:F1} B)");
    }

    [Benchmark(OperationsPerInvoke = N)]
    public int EncodeUnsignedBlock()
    {
        _writer.Clear();
        TsmBlock.EncodeUnsigned(_ts, _unsigned, _writer);
        return _writer.Length;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public ulong DecodeUnsignedBlock()
    {
        TsmBlock.TryReadHeader(_unsignedBlock, out BlockHeader h, out _);
        TsmBlock.TryDecodeTimestamps(_unsignedBlock, h, _outTs);
        TsmBlock.TryDecodeUnsigned(_unsignedBlock, h, _outUnsigned);
        return _outUnsigned[N - 1];
    }

    [Benchmark(OperationsPerInvoke = N)]
    public int EncodeBooleanBlock()
    {
        _writer.Clear();
        TsmBlock.EncodeBooleans(_ts, _bools, _writer);
        return _writer.Length;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public bool DecodeBooleanBlock()
    {
        TsmBlock.TryReadHeader(_boolBlock, out BlockHeader h, out _);
        TsmBlock.TryDecodeTimestamps(_boolBlock, h, _outTs);
        TsmBlock.TryDecodeBooleans(_boolBlock, h, _outBools);
        return _outBools[N - 1];
    }

    [Benchmark(OperationsPerInvoke = N)]
    public int EncodeStringBlock()
    {
        _writer.Clear();
        TsmBlock.EncodeStrings(_ts, _strings, _writer);
        return _writer.Length;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public int DecodeStringBlock()
    {
        TsmBlock.TryReadHeader(_stringBlock, out BlockHeader h, out _);
        TsmBlock.TryDecodeTimestamps(_stringBlock, h, _outTs);
        TsmBlock.TryDecodeStrings(_stringBlock, h, _outStrings);
        return _outStrings.Count;
    }

    private byte[] Encode(Action<ByteWriter> encode)
    {
        _writer.Clear();
        encode(_writer);
        return _writer.WrittenSpan.ToArray();
    }
}

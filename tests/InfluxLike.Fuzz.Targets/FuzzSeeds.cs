using System.IO.Compression;
using System.Text;
using System.Text.Json;
using InfluxLike.Storage.Wal;
using InfluxLike.Testing;

namespace InfluxLike.Fuzz;

/// <summary>
/// The seed corpora: the line-protocol conformance corpus, the Flux conformance scripts, their expected CSVs, the
/// golden TSM file, WAL segments written here. Read from <c>../shared</c> (read-only: never written).
/// </summary>
public static class FuzzSeeds
{
    private static readonly Lazy<byte[][]> LineProtocolLazy = new(() =>
    [
        .. File.ReadLines(RepoPaths.Conformance("line-protocol", "decode.jsonl"))
            .Select(l => Convert.FromBase64String(JsonDocument.Parse(l).RootElement.GetProperty("input_base64").GetString()!))
            .Where(b => b.Length is > 0 and < 2000)
            .Take(400),
    ]);

    private static readonly Lazy<byte[][]> FluxLazy = new(() =>
        [.. Directory.GetFiles(RepoPaths.Conformance("flux"), "*.flux", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)]);

    private static readonly Lazy<byte[][]> CsvLazy = new(() =>
        [.. Directory.GetFiles(RepoPaths.Conformance("flux"), "expected.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(60).Select(File.ReadAllBytes)]);

    private static readonly Lazy<byte[][]> TsmLazy = new(() =>
        [File.ReadAllBytes(Path.Combine(RepoPaths.Root, "tests", "InfluxLike.Storage.Tests", "testdata", "golden-v1.tsm"))]);

    private static readonly Lazy<byte[][]> WalSegmentsLazy = new(WriteWalSegments);

    private static readonly Lazy<byte[][]> WalPairsLazy = new(() =>
    {
        byte[][] segments = WalSegments;
        return [.. segments.Zip(segments.Skip(1), FuzzTargets.EncodeWalPair)];
    });

    private static readonly Lazy<byte[][]> GzipLazy = new(() =>
    [
        .. LineProtocol.Take(60).Select(Compress),
        Compress(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 200).Select(i => $"cpu,host=h{i % 7} v={i}i,s=\"x{i}\" {1_700_000_000_000_000_000L + i}\n")))),
        // Decodes past the target's size limit: the 413 path.
        Compress(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("m v=1 1\n", (int)(FuzzTargets.GzipMaxBodyBytes / 8) + 1)))),
    ]);

    public static IReadOnlyList<byte[]> LineProtocol => LineProtocolLazy.Value;

    public static IReadOnlyList<byte[]> Flux => FluxLazy.Value;

    public static IReadOnlyList<byte[]> Csv => CsvLazy.Value;

    public static IReadOnlyList<byte[]> Tsm => TsmLazy.Value;

    /// <summary>Segments of a WAL of 20 entries cut into 300-byte segments.</summary>
    public static byte[][] WalSegments => WalSegmentsLazy.Value;

    /// <summary>Neighbouring segments as <see cref="FuzzTargets.EncodeWalPair"/> inputs.</summary>
    public static IReadOnlyList<byte[]> WalPairs => WalPairsLazy.Value;

    public static IReadOnlyList<byte[]> Gzip => GzipLazy.Value;

    public static byte[] Compress(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    private static byte[][] WriteWalSegments()
    {
        string source = Path.Combine(FuzzScratch.Folder, "wal-seeds");
        using (var wal = WriteAheadLog.Open(source, new WalOptions { SegmentSizeBytes = 300 }))
        {
            for (int i = 0; i < 20; i++)
            {
                wal.AppendAsync(Encoding.UTF8.GetBytes($"entry {i} " + new string((char)('a' + i), i * 7))).GetAwaiter().GetResult();
            }
        }

        byte[][] segments = [.. Directory.GetFiles(source, "*" + WriteAheadLog.Extension).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).Where(b => b.Length > 0)];
        Directory.Delete(source, recursive: true);
        return segments;
    }
}

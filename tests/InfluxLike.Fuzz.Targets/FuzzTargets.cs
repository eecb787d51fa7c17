using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Query;
using InfluxLike.Query.Csv;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Formatting;
using InfluxLike.Query.Semantics;
using InfluxLike.Query.Syntax;
using InfluxLike.Server.Http;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Shards;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Wal;
using Microsoft.AspNetCore.Http;

namespace InfluxLike.Fuzz;

/// <summary>A fuzz target: its name on the harness's command line, its body, and its seed corpus.</summary>
public sealed record FuzzTarget(string Name, Action<byte[]> Body, Func<IReadOnlyList<byte[]>> Seeds);

/// <summary>
/// One fuzz target per reader of untrusted or on-disk input. A body returns for an input handled as documented
/// (accepted, or refused with the documented error) and throws otherwise: an undocumented exception, or a
/// <see cref="FuzzPropertyException"/> when what it accepted does not re-check (garnet's fuzz targets): line
/// protocol read back is written and read again identically, a parsed script formats to text that parses and
/// formats the same, a CSV read back writes and reads the same tables.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Largest gzip-decoded write body the gzip target accepts (small, so that the 413 path is reached).</summary>
    public const long GzipMaxBodyBytes = 64 << 10;

    private static int _inputs;

    /// <summary>Every target, by the name the AFL++ harness and <c>scripts/fuzz.sh</c> take.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("lineprotocol", LineProtocolReader, () => FuzzSeeds.LineProtocol),
        new("flux", QueryParser, () => FuzzSeeds.Flux),
        new("csv", AnnotatedCsv, () => FuzzSeeds.Csv),
        new("tsm", TsmReader, () => FuzzSeeds.Tsm),
        new("wal", WalReplay, () => FuzzSeeds.WalPairs),
        new("gzip", GzipWritePath, () => FuzzSeeds.Gzip),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    /// <summary>Errors carry line and column; accepted points write and read back the same.</summary>
    public static void LineProtocolReader(byte[] bytes)
    {
        var (points, errors) = Point.ParseAll(bytes);
        foreach (var e in errors)
        {
            FuzzPropertyException.Check(e.Line >= 1 && e.Column >= 1, $"error without a position: {e}");
        }

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(buffer);
        foreach (Point p in points)
        {
            p.WriteTo(writer);
        }

        var (again, againErrors) = Point.ParseAll(buffer.WrittenSpan);
        FuzzPropertyException.Check(againErrors.Count == 0, $"written points do not read back: {string.Join("; ", againErrors)}");
        FuzzPropertyException.Check(points.Count == again.Count, $"{points.Count} points written, {again.Count} read back");
        for (int i = 0; i < points.Count; i++)
        {
            FuzzPropertyException.Check(points[i].ToString() == again[i].ToString(), $"point {i} reads back as {again[i]}, not {points[i]}");
        }
    }

    /// <summary>
    /// The parser and the checker: diagnostics inside the script, no exception; an accepted script formats to text
    /// that parses and formats the same.
    /// </summary>
    public static void QueryParser(byte[] bytes)
    {
        string script = Encoding.UTF8.GetString(bytes);
        ParseResult parsed = ScriptParser.Parse(script);
        CheckSpans(parsed.Diagnostics, script);
        if (!parsed.Succeeded)
        {
            return;
        }

        CheckSpans(ScriptChecker.Check(parsed.Ast!, script), script);
        string formatted = Formatter.Format(parsed.Ast!);
        ParseResult again = ScriptParser.Parse(formatted);
        FuzzPropertyException.Check(again.Succeeded, $"the formatted script does not parse: {string.Join("; ", again.Diagnostics)}\n{formatted}");
        string twice = Formatter.Format(again.Ast!);
        FuzzPropertyException.Check(formatted == twice, $"formatting is not stable:\n{formatted}\n---\n{twice}");
    }

    /// <summary>Only <see cref="QueryException"/> for bad input; tables read write and read back.</summary>
    public static void AnnotatedCsv(byte[] bytes)
    {
        List<(string Result, InfluxLike.Query.Data.Table Table)> tables;
        try
        {
            tables = AnnotatedCsvReader.Read(Encoding.UTF8.GetString(bytes));
        }
        catch (QueryException)
        {
            return; // documented: malformed CSV, with line and column
        }

        string text = AnnotatedCsvWriter.ToText(tables);
        var again = AnnotatedCsvReader.Read(text);
        int nonEmpty = tables.Count(t => !t.Table.IsEmpty);
        FuzzPropertyException.Check(nonEmpty == again.Count, $"{nonEmpty} tables written, {again.Count} read back:\n{text}");
    }

    /// <summary>Opens the file and decodes every block: problems are reported, naming the file, never thrown.</summary>
    public static void TsmReader(byte[] bytes)
    {
        string path = Path.Combine(FuzzScratch.Folder, NextName() + ".tsm");
        File.WriteAllBytes(path, bytes);
        try
        {
            TsmVerifyReport report = TsmInspector.Verify(path);
            foreach (string problem in report.Problems)
            {
                FuzzPropertyException.Check(problem.Contains(path, StringComparison.Ordinal), $"a problem that does not name the file: {problem}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The two segments of <see cref="EncodeWalPair"/>: damage in the older is skipped, in the last cut off.</summary>
    public static void WalReplay(byte[] bytes)
    {
        var (older, last) = DecodeWalPair(bytes);
        WalReplay(older, last);
    }

    /// <summary>Replay never throws; repairs are reported naming the folder, and replay after them is stable.</summary>
    public static void WalReplay(byte[] older, byte[] last)
    {
        string dir = Path.Combine(FuzzScratch.Folder, NextName());
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "00000001" + WriteAheadLog.Extension), older);
            File.WriteAllBytes(Path.Combine(dir, "00000002" + WriteAheadLog.Extension), last);
            var warnings = new List<string>();
            var records = WriteAheadLog.Replay(dir, warnings.Add).ToList();
            foreach (string w in warnings)
            {
                FuzzPropertyException.Check(w.Contains(dir, StringComparison.Ordinal), $"a repair that does not name the folder: {w}");
            }

            var again = WriteAheadLog.Replay(dir).ToList();
            FuzzPropertyException.Check(records.Count == again.Count, $"{records.Count} records replayed, then {again.Count}");
            for (int i = 0; i < records.Count; i++)
            {
                FuzzPropertyException.Check(records[i].Payload.AsSpan().SequenceEqual(again[i].Payload), $"record {i} differs on the second replay");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A segment pair as one input: the older segment's length (2 bytes, little-endian), it, then the last.</summary>
    public static byte[] EncodeWalPair(byte[] older, byte[] last)
    {
        int length = Math.Min(older.Length, ushort.MaxValue);
        byte[] input = new byte[2 + length + last.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(input, (ushort)length);
        older.AsSpan(0, length).CopyTo(input.AsSpan(2));
        last.CopyTo(input.AsSpan(2 + length));
        return input;
    }

    public static (byte[] Older, byte[] Last) DecodeWalPair(byte[] input)
    {
        if (input.Length < 2)
        {
            return ([], input);
        }

        int length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(input), input.Length - 2);
        return (input[2..(2 + length)], input[(2 + length)..]);
    }

    /// <summary>
    /// The write endpoints' body handling in process (gzip decoding under the size limit, line-protocol parsing,
    /// storing): only the documented answers 204, 400, 413 and 422; a body answered 204 decodes and parses cleanly.
    /// </summary>
    public static void GzipWritePath(byte[] body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Headers.ContentEncoding = "gzip";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body, writable: false);
        IngestOutcome outcome = GzipEngine.Write(context.Request);
        FuzzPropertyException.Check(outcome.Status is 204 or 400 or 413 or 422, $"answered {outcome.Status} {outcome.Code}: {outcome.Message}");
        if (outcome.Status != 204)
        {
            return;
        }

        using var decoded = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(body, writable: false), CompressionMode.Decompress))
        {
            gzip.CopyTo(decoded);
        }

        FuzzPropertyException.Check(decoded.Length <= GzipMaxBodyBytes, $"a body of {decoded.Length} bytes was accepted, over the limit");
        var (_, errors) = Point.ParseAll(decoded.GetBuffer().AsSpan(0, (int)decoded.Length));
        FuzzPropertyException.Check(errors.Count == 0, $"accepted with 204, yet the reader finds {string.Join("; ", errors)}");
    }

    private static string NextName() =>
        Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Interlocked.Increment(ref _inputs).ToString("D9", CultureInfo.InvariantCulture);

    private static void CheckSpans(IReadOnlyList<Diagnostic> diagnostics, string script)
    {
        foreach (var d in diagnostics)
        {
            FuzzPropertyException.Check(d.Span.Offset >= 0 && d.Span.End <= script.Length, $"diagnostic outside the script: {d}");
        }
    }

    /// <summary>
    /// The storage engine the gzip target writes into: one per process, in the scratch folder, WAL fsync by
    /// interval (nothing here survives the process). Every <see cref="InputsPerBucket"/> inputs its bucket is
    /// dropped and made anew, so that the shards random timestamps create do not pile up.
    /// </summary>
    private static class GzipEngine
    {
        private const int InputsPerBucket = 256;

        private static readonly Lock Gate = new();
        private static StorageEngine? _engine;
        private static BucketInfo? _bucket;
        private static int _written;

        public static IngestOutcome Write(HttpRequest request)
        {
            lock (Gate)
            {
                if (_engine is null)
                {
                    var options = new EngineOptions
                    {
                        Shard = new ShardOptions { Wal = new WalOptions { Fsync = FsyncPolicy.Interval } },
                        MinFreeDiskBytes = 0,
                    };
                    _engine = StorageEngine.Open(Path.Combine(FuzzScratch.Folder, "engine"), options);
                }

                if (_bucket is null || ++_written % InputsPerBucket == 0)
                {
                    if (_bucket is not null)
                    {
                        _engine.DropBucketAsync(_bucket.Id).GetAwaiter().GetResult();
                    }

                    string org = _engine.Catalog.GetOrCreateOrg("fuzz").Id;
                    _bucket = _engine.Catalog.CreateBucket(org, "b" + _written.ToString(CultureInfo.InvariantCulture), TimeSpan.Zero);
                }

                return LineProtocolIngest.WriteAsync(request, _engine, _bucket, Precision.Nanoseconds, GzipMaxBodyBytes, acceptPartial: true).GetAwaiter().GetResult();
            }
        }
    }
}

/// <summary>
/// The folder targets write their files in: one per process, below the temporary folder (scripts/fuzz.sh points
/// TMPDIR into its work folder), removed when the process ends normally.
/// </summary>
public static class FuzzScratch
{
    private static readonly Lazy<string> FolderLazy = new(() =>
    {
        string path = Directory.CreateTempSubdirectory("influxlike-fuzz-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // an engine file still open: the temporary folder's owner cleans up
            }
        };
        return path;
    });

    public static string Folder => FolderLazy.Value;
}

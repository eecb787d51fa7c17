using System.Buffers;
using System.Text;
using System.Text.Json;
using CsCheck;
using InfluxLike.LineProtocol;
using InfluxLike.Query;
using InfluxLike.Query.Csv;
using InfluxLike.Query.Formatting;
using InfluxLike.Query.Syntax;
using InfluxLike.Storage;
using InfluxLike.Storage.Tsm;
using InfluxLike.Storage.Wal;
using InfluxLike.Testing;

namespace InfluxLike.Fuzz;

/// <summary>
/// One fuzz target per reader of untrusted or on-disk input. Each re-checks what it accepts (garnet's fuzz
/// targets): line protocol read back is written and read again identically, a parsed script formats to text
/// that parses and formats the same, a CSV read back writes and reads the same tables.
/// </summary>
public sealed class Targets
{
    private static readonly Lazy<byte[][]> LineProtocolSeeds = new(() =>
    [
        .. File.ReadLines(RepoPaths.Conformance("line-protocol", "decode.jsonl"))
            .Select(l => Convert.FromBase64String(JsonDocument.Parse(l).RootElement.GetProperty("input_base64").GetString()!))
            .Where(b => b.Length is > 0 and < 2000)
            .Take(400),
    ]);

    private static readonly Lazy<byte[][]> FluxSeeds = new(() =>
        [.. Directory.GetFiles(RepoPaths.Conformance("flux"), "*.flux", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)]);

    private static readonly Lazy<byte[][]> CsvSeeds = new(() =>
        [.. Directory.GetFiles(RepoPaths.Conformance("flux"), "expected.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(60).Select(File.ReadAllBytes)]);

    [Fact]
    public void Line_protocol_reader()
    {
        FuzzHarness.Mutated(LineProtocolSeeds.Value).Sample(input => FuzzHarness.Run(input, bytes =>
        {
            var (points, errors) = Point.ParseAll(bytes);
            foreach (var e in errors)
            {
                Assert.True(e.Line >= 1 && e.Column >= 1, $"error without a position: {e}");
            }

            // Accepted points written out read back the same.
            var buffer = new ArrayBufferWriter<byte>();
            var writer = new LineProtocolWriter(buffer);
            foreach (Point p in points)
            {
                p.WriteTo(writer);
            }

            var (again, againErrors) = Point.ParseAll(buffer.WrittenSpan);
            Assert.Empty(againErrors);
            Assert.Equal(points.Count, again.Count);
            for (int i = 0; i < points.Count; i++)
            {
                Assert.Equal(points[i].ToString(), again[i].ToString());
            }
        }, FuzzHarness.Show), iter: FuzzHarness.Iterations);
    }

    [Fact]
    public void Query_parser()
    {
        FuzzHarness.Mutated(FluxSeeds.Value).Sample(input => FuzzHarness.Run(Encoding.UTF8.GetString(input), script =>
        {
            ParseResult parsed = ScriptParser.Parse(script);
            foreach (var d in parsed.Diagnostics)
            {
                Assert.True(d.Span.Offset >= 0 && d.Span.End <= script.Length, $"diagnostic outside the script: {d}");
            }

            if (parsed.Succeeded)
            {
                string formatted = Formatter.Format(parsed.Ast!);
                ParseResult again = ScriptParser.Parse(formatted);
                Assert.True(again.Succeeded, $"the formatted script does not parse: {string.Join("; ", again.Diagnostics)}\n{formatted}");
                Assert.Equal(formatted, Formatter.Format(again.Ast!));
            }
        }, s => JsonSerializer.Serialize(s)), iter: FuzzHarness.Iterations);
    }

    [Fact]
    public void Annotated_csv_reader()
    {
        FuzzHarness.Mutated(CsvSeeds.Value).Sample(input => FuzzHarness.Run(Encoding.UTF8.GetString(input), csv =>
        {
            List<(string Result, InfluxLike.Query.Data.Table Table)> tables;
            try
            {
                tables = AnnotatedCsvReader.Read(csv);
            }
            catch (QueryException)
            {
                return; // documented: malformed CSV, with line and column
            }

            var text = new StringWriter();
            var writer = new AnnotatedCsvWriter(text);
            foreach (var (result, table) in tables)
            {
                writer.WriteTable(result, table);
            }

            writer.Finish();
            var again = AnnotatedCsvReader.Read(text.ToString());
            Assert.Equal(tables.Count(t => !t.Table.IsEmpty), again.Count);
        }, s => JsonSerializer.Serialize(s)), iter: FuzzHarness.Iterations);
    }

    [Fact]
    public void Tsm_reader()
    {
        string golden = Path.Combine(RepoPaths.Root, "tests", "InfluxLike.Storage.Tests", "testdata", "golden-v1.tsm");
        byte[][] seeds = [File.ReadAllBytes(golden)];
        using var dir = new TempFolder();
        int n = 0;
        FuzzHarness.Mutated(seeds).Sample(input => FuzzHarness.Run(input, bytes =>
        {
            string path = Path.Combine(dir.Path, $"{Interlocked.Increment(ref n):D9}.tsm");
            File.WriteAllBytes(path, bytes);
            try
            {
                TsmVerifyReport report = TsmInspector.Verify(path); // opens, then decodes every block
                Assert.All(report.Problems, p => Assert.Contains(path, p, StringComparison.Ordinal)); // names the file
            }
            finally
            {
                File.Delete(path);
            }
        }, FuzzHarness.Show), iter: FuzzHarness.Iterations);
    }

    [Fact]
    public async Task Wal_replay()
    {
        using var dir = new TempFolder();
        string source = Path.Combine(dir.Path, "source");
        await using (var wal = WriteAheadLog.Open(source, new WalOptions { SegmentSizeBytes = 300 }))
        {
            for (int i = 0; i < 20; i++)
            {
                await wal.AppendAsync(Encoding.UTF8.GetBytes($"entry {i} " + new string((char)('a' + i), i * 7)));
            }
        }

        byte[][] seeds = [.. Directory.GetFiles(source, "*.wal").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).Where(b => b.Length > 0)];
        int n = 0;
        // Two segments: damage in the older one is reported and skipped, in the last one cut off as a torn tail.
        Gen.Select(FuzzHarness.Mutated(seeds), FuzzHarness.Mutated(seeds)).Sample((older, last) => FuzzHarness.Run((older, last), pair =>
        {
            string d = Path.Combine(dir.Path, Interlocked.Increment(ref n).ToString("D9", System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(d);
            File.WriteAllBytes(Path.Combine(d, "00000001.wal"), pair.older);
            File.WriteAllBytes(Path.Combine(d, "00000002.wal"), pair.last);
            var warnings = new List<string>();
            var records = WriteAheadLog.Replay(d, warnings.Add).ToList();
            Assert.All(warnings, w => Assert.Contains(d, w, StringComparison.Ordinal));
            Assert.Equal(records, WriteAheadLog.Replay(d).ToList(), (a, b) => a.Payload.AsSpan().SequenceEqual(b.Payload)); // repairs are stable
            Directory.Delete(d, recursive: true);
        }, p => $"older {FuzzHarness.Show(p.older)}; last {FuzzHarness.Show(p.last)}"), iter: FuzzHarness.Iterations);
    }
}

/// <summary>A temporary folder, deleted with its contents on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("influxlike-fuzz-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

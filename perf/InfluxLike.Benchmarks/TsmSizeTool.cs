using System.Diagnostics;
using System.Globalization;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Storage.Tsm;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Macro measurement: loads a line-protocol workload, writes every series field into one fully compacted
/// TSM file (what a settled shard holds) and reports bytes per value, the figure InfluxDB and
/// VictoriaMetrics are compared on in ../shared/perf (whole data folder / values).
/// <c>dotnet run -c Release --project perf/InfluxLike.Benchmarks -- tsm-size FILE [points-per-block]</c>
/// </summary>
internal static class TsmSizeTool
{
    public static void Run(string[] args)
    {
        string file = args[0];
        int perBlock = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : TsmBlock.DefaultMaxPoints;
        var sw = Stopwatch.StartNew();
        byte[] data = File.ReadAllBytes(file);

        // Columns per (series key, field); the TSBS workload is all floats.
        var columns = new Dictionary<string, (List<long> Ts, List<double> V)>(StringComparer.Ordinal);
        long values = 0;
        var reader = new LineProtocolReader(data);
        var key = new StringBuilder();
        Span<byte> scratch = stackalloc byte[512];
        while (reader.Read())
        {
            if (reader.Error is not null)
            {
                throw new InvalidDataException(reader.Error.ToString());
            }

            key.Clear().Append(reader.Measurement.ToString());
            for (int i = 0; i < reader.TagCount; i++)
            {
                LineTag t = reader.GetTag(i);
                key.Append(',').Append(t.Key.ToString()).Append('=').Append(t.Value.ToString());
            }

            string series = key.ToString();
            for (int i = 0; i < reader.FieldCount; i++)
            {
                LineField f = reader.GetField(i);
                string k = series + "\u0000" + Encoding.UTF8.GetString(f.Key.Unescape(scratch));
                if (!columns.TryGetValue(k, out var col))
                {
                    columns[k] = col = ([], []);
                }

                col.Ts.Add(reader.Timestamp);
                col.V.Add(f.FloatValue);
                values++;
            }
        }

        reader.Dispose();
        double parseSeconds = sw.Elapsed.TotalSeconds;

        string dir = Path.Combine(Path.GetTempPath(), "influxlike-tsm-size-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "000001.tsm");
        sw.Restart();
        TsmFileInfo info;
        using (var w = new TsmWriter(path, perBlock))
        {
            foreach (var (k, col) in columns.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                int sep = k.IndexOf('\u0000', StringComparison.Ordinal);
                w.WriteFloats(Encoding.UTF8.GetBytes(k[..sep]), Encoding.UTF8.GetBytes(k[(sep + 1)..]), col.Ts.ToArray(), col.V.ToArray());
            }

            info = w.Finish();
        }

        double writeSeconds = sw.Elapsed.TotalSeconds;
        TsmVerifyReport verify = TsmInspector.Verify(path);
        var forms = new int[3];
        using (var r = TsmReader.Open(path))
        {
            for (int k = 0; k < r.KeyCount; k++)
            {
                TsmKey tk = r.GetKey(k);
                for (int b = 0; b < tk.BlockCount; b++)
                {
                    TsmIndexEntry e = r.GetEntry(tk, b);
                    BlockHeader h = r.ReadHeader(e);
                    forms[r.GetBlock(e)[h.ValuesStart]]++;
                }
            }
        }

        Console.WriteLine($"workload      {Path.GetFileName(file)}: {data.Length:N0} bytes, {values:N0} values, {columns.Count:N0} keys");
        Console.WriteLine($"tsm file      {info.Size:N0} bytes, {info.BlockCount:N0} blocks of up to {perBlock} points");
        Console.WriteLine($"bytes/value   {info.Size / (double)values:F3}");
        Console.WriteLine($"float forms   xor {forms[0]}, decimal {forms[1]}, bit-deltas {forms[2]}");
        Console.WriteLine($"verify        {(verify.Ok ? "ok" : string.Join("; ", verify.Problems))}, {verify.Points:N0} points");
        Console.WriteLine($"time          parse {parseSeconds:F1} s, encode+write {writeSeconds:F1} s ({values / writeSeconds / 1e6:F1} M values/s)");
        Directory.Delete(dir, recursive: true);
    }
}

using System.Buffers;
using System.Globalization;
using InfluxLike.LineProtocol;

namespace InfluxLike.Storage.Tsm;

/// <summary>What <see cref="TsmInspector.Verify"/> found.</summary>
public sealed record TsmVerifyReport(string Path, long Size, int Keys, long Blocks, long Points, long MinTime, long MaxTime, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>Offline checks and dumps of TSM files (what <c>influxlike inspect</c> prints).</summary>
public static class TsmInspector
{
    /// <summary>Opens a file and decodes every block, collecting each problem with its offset; never throws for damage.</summary>
    public static TsmVerifyReport Verify(string path)
    {
        var problems = new List<string>();
        TsmReader reader;
        try
        {
            reader = TsmReader.Open(path);
        }
        catch (CorruptionException e)
        {
            return new TsmVerifyReport(path, File.Exists(path) ? new FileInfo(path).Length : 0, 0, 0, 0, 0, 0, [e.Message]);
        }

        using (reader)
        {
            long blocks = 0, points = 0;
            long[] ts = ArrayPool<long>.Shared.Rent(1024);
            double[] buffer = ArrayPool<double>.Shared.Rent(1024);
            using var strings = new StringColumn();
            try
            {
                for (int k = 0; k < reader.KeyCount; k++)
                {
                    TsmKey key = reader.GetKey(k);
                    long lastMax = long.MinValue;
                    for (int b = 0; b < key.BlockCount; b++)
                    {
                        blocks++;
                        TsmIndexEntry e = reader.GetEntry(key, b);
                        if (e.MinTime <= lastMax && b > 0)
                        {
                            problems.Add($"{path}: key {Describe(key)}: block at offset {e.Offset} overlaps the previous block");
                        }

                        lastMax = e.MaxTime;
                        if (ts.Length < e.Count)
                        {
                            ArrayPool<long>.Shared.Return(ts);
                            ArrayPool<double>.Shared.Return(buffer);
                            ts = ArrayPool<long>.Shared.Rent(e.Count);
                            buffer = ArrayPool<double>.Shared.Rent(e.Count);
                        }

                        try
                        {
                            int n = DecodeAny(reader, key.Type, e, ts, buffer, strings);
                            points += n;
                            if (ts[0] != e.MinTime || ts[n - 1] != e.MaxTime)
                            {
                                problems.Add($"{path}: block at offset {e.Offset}: times {ts[0]}..{ts[n - 1]} differ from the index's {e.MinTime}..{e.MaxTime}");
                            }
                        }
                        catch (CorruptionException ex)
                        {
                            problems.Add(ex.Message);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<long>.Shared.Return(ts);
                ArrayPool<double>.Shared.Return(buffer);
            }

            return new TsmVerifyReport(path, reader.Size, reader.KeyCount, blocks, points, reader.MinTime, reader.MaxTime, problems);
        }
    }

    /// <summary>Writes the index (and with <paramref name="values"/>, every point) as text.</summary>
    public static void Dump(string path, TextWriter output, bool values = false)
    {
        using TsmReader reader = TsmReader.Open(path);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"file {reader.Path}: {reader.Size} bytes, {reader.KeyCount} keys, time {reader.MinTime}..{reader.MaxTime}"));
        long[] ts = new long[1];
        double[] buffer = new double[1];
        using var strings = new StringColumn();
        for (int k = 0; k < reader.KeyCount; k++)
        {
            TsmKey key = reader.GetKey(k);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"key {Describe(key)} {key.Type}, {key.BlockCount} block(s)"));
            for (int b = 0; b < key.BlockCount; b++)
            {
                TsmIndexEntry e = reader.GetEntry(key, b);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  block offset={e.Offset} size={e.Size} count={e.Count} time={e.MinTime}..{e.MaxTime} ({e.Size / (double)e.Count:F2} bytes/point)"));
                if (!values)
                {
                    continue;
                }

                if (ts.Length < e.Count)
                {
                    ts = new long[e.Count];
                    buffer = new double[e.Count];
                }

                int n = DecodeAny(reader, key.Type, e, ts, buffer, strings);
                for (int i = 0; i < n; i++)
                {
                    string v = key.Type switch
                    {
                        FieldType.Float => buffer[i].ToString("R", CultureInfo.InvariantCulture),
                        FieldType.Integer => BitConverter.DoubleToInt64Bits(buffer[i]).ToString(CultureInfo.InvariantCulture),
                        FieldType.Unsigned => ((ulong)BitConverter.DoubleToInt64Bits(buffer[i])).ToString(CultureInfo.InvariantCulture),
                        FieldType.Boolean => BitConverter.DoubleToInt64Bits(buffer[i]) != 0 ? "true" : "false",
                        _ => "\"" + strings.GetString(i) + "\"",
                    };
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {ts[i]} {v}"));
                }
            }
        }
    }

    // Decodes any block type; integer-like values come back as their bit patterns in `values`.
    private static int DecodeAny(TsmReader reader, FieldType type, in TsmIndexEntry e, Span<long> ts, Span<double> values, StringColumn strings)
    {
        switch (type)
        {
            case FieldType.Float:
                return reader.ReadFloats(e, ts, values);
            case FieldType.Integer:
                return reader.ReadIntegers(e, ts, System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(values));
            case FieldType.Unsigned:
                return reader.ReadUnsigned(e, ts, System.Runtime.InteropServices.MemoryMarshal.Cast<double, ulong>(values));
            case FieldType.Boolean:
                bool[] b = ArrayPool<bool>.Shared.Rent(e.Count);
                try
                {
                    int n = reader.ReadBooleans(e, ts, b);
                    for (int i = 0; i < n; i++)
                    {
                        values[i] = BitConverter.Int64BitsToDouble(b[i] ? 1 : 0);
                    }

                    return n;
                }
                finally
                {
                    ArrayPool<bool>.Shared.Return(b);
                }

            default:
                return reader.ReadStrings(e, ts, strings);
        }
    }

    private static string Describe(in TsmKey key) =>
        System.Text.Encoding.UTF8.GetString(key.SeriesKey) + " " + System.Text.Encoding.UTF8.GetString(key.Field);
}

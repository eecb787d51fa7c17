using System.Text;

namespace InfluxLike.Benchmarks;

/// <summary>Benchmark inputs: the TSBS devops cpu workload from ../shared/perf's generator, and synthetic data.</summary>
internal static class Workloads
{
    /// <summary>
    /// The first <paramref name="maxBytes"/> bytes (cut at a line end) of the TSBS cpu workload made by
    /// perf/make-workload.sh. Set INFLUXLIKE_WORKLOAD to use another file.
    /// </summary>
    public static byte[] TsbsCpu(int maxBytes, int decimals = -1, int hours = 1)
    {
        string path = Environment.GetEnvironmentVariable("INFLUXLIKE_WORKLOAD")
            ?? Path.Combine(FindRoot(), "perf", ".work", $"cpu-100hosts-{hours}h-dec{decimals}.lp");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Run perf/make-workload.sh {hours} {decimals} first (missing {path}).");
        }

        using var f = File.OpenRead(path);
        byte[] buffer = new byte[Math.Min(maxBytes, f.Length)];
        f.ReadExactly(buffer);
        int end = buffer.AsSpan().LastIndexOf((byte)'\n') + 1;
        return buffer[..end];
    }

    /// <summary>Line protocol cut into batches of <paramref name="lines"/> whole lines (the last may be shorter).</summary>
    public static List<ReadOnlyMemory<byte>> Batches(byte[] data, int lines = 5000)
    {
        var batches = new List<ReadOnlyMemory<byte>>();
        int start = 0, count = 0;
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] == (byte)'\n' && ++count % lines == 0)
            {
                batches.Add(data.AsMemory(start, i + 1 - start));
                start = i + 1;
            }
        }

        if (start < data.Length)
        {
            batches.Add(data.AsMemory(start));
        }

        return batches;
    }

    /// <summary>Lines heavy in escapes and string fields (log-like data), deterministic.</summary>
    public static byte[] EscapesAndStrings(int lines)
    {
        var rng = new Random(42);
        var sb = new StringBuilder();
        for (int i = 0; i < lines; i++)
        {
            sb.Append("app\\ log\\,s,host=web\\ ").Append(i % 50)
              .Append(",path=/api/v2/write\\,query\\=x,level=").Append(i % 3 == 0 ? "warn" : "info")
              .Append(" message=\"GET /index.html?user=\\\"u").Append(rng.Next(1000))
              .Append("\\\" took \\\\ ").Append(rng.Next(100)).Append(" ms, status ok\"")
              .Append(",stack=\"at Foo.Bar() in C:\\\\src\\\\foo.cs:line ").Append(rng.Next(500)).Append('"')
              .Append(",bytes=").Append(rng.Next(100000)).Append("i,ok=true ")
              .Append(1767225600000000000L + (i * 1000000000L)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static int CountLines(ReadOnlySpan<byte> data) => data.Count((byte)'\n');

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "InfluxLike.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("InfluxLike.sln not found above " + AppContext.BaseDirectory);
    }
}

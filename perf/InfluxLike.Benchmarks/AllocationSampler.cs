using System.Diagnostics.Tracing;

namespace InfluxLike.Benchmarks;

/// <summary>
/// Counts the runtime's sampled allocation events (one per ~100 KB allocated) by type, to tell where a benchmark's
/// allocations come from without an external profiler. Enabled by <c>INFLUXLIKE_ALLOC_SAMPLES=1</c>.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly Dictionary<string, long> _bytes = [];

    public void Print(TextWriter output)
    {
        lock (_bytes)
        {
            long total = _bytes.Values.Sum();
            foreach (var (type, bytes) in _bytes.OrderByDescending(kv => kv.Value).Take(25))
            {
                output.WriteLine($"  {bytes * 100.0 / total,5:F1} %  {bytes / 1048576.0,9:F0} MiB  {type}");
            }
        }
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not "GCAllocationTick_V4" and not "GCAllocationTick_V3" || e.Payload is null)
        {
            return;
        }

        int nameAt = e.PayloadNames!.IndexOf("TypeName");
        int amountAt = e.PayloadNames.IndexOf("AllocationAmount64");
        string type = nameAt >= 0 ? e.Payload[nameAt] as string ?? "?" : "?";
        long amount = amountAt >= 0 ? Convert.ToInt64(e.Payload[amountAt], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        lock (_bytes)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }
}

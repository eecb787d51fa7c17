namespace InfluxLike.Storage.IO;

/// <summary>
/// Paces background writers (compaction) to a number of bytes per second, as a token bucket holding at
/// most one second of budget. Shared by all compactions of an engine; the rate can change while running
/// (a reloaded setting), which is why this is not System.Threading.RateLimiting's token bucket, whose
/// options are fixed at construction. A rate of 0 means no limit.
/// </summary>
public sealed class IoBudget(long bytesPerSecond)
{
    private readonly object _lock = new();
    private long _bytesPerSecond = bytesPerSecond;
    private double _available = bytesPerSecond;
    private long _last = System.Diagnostics.Stopwatch.GetTimestamp();

    public long BytesPerSecond
    {
        get => Volatile.Read(ref _bytesPerSecond);
        set => Volatile.Write(ref _bytesPerSecond, Math.Max(0, value));
    }

    /// <summary>Takes <paramref name="bytes"/> from the budget, sleeping until the budget allows them.</summary>
    public void Consume(long bytes, CancellationToken cancel)
    {
        TimeSpan wait;
        lock (_lock)
        {
            long rate = BytesPerSecond;
            if (rate <= 0 || bytes <= 0)
            {
                return;
            }

            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            _available = Math.Min(rate, _available + (System.Diagnostics.Stopwatch.GetElapsedTime(_last, now).TotalSeconds * rate));
            _last = now;
            _available -= bytes;
            wait = _available >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_available / rate);
        }

        if (wait > TimeSpan.Zero)
        {
            cancel.WaitHandle.WaitOne(wait);
            cancel.ThrowIfCancellationRequested();
        }
    }
}

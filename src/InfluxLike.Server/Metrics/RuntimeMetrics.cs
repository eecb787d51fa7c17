using Prometheus;

namespace InfluxLike.Server.Metrics;

/// <summary>
/// Runtime metrics beyond prometheus-net's defaults (which already export GC, heap, allocation,
/// thread-pool and JIT figures through the System.Runtime meter).
/// </summary>
internal static class RuntimeMetrics
{
    private static int _registered;

    /// <summary>
    /// Counts exceptions as they are thrown (first chance), by type: the .NET counterpart of watching a Go
    /// server's panics and error paths. The runtime's own <c>dotnet.exceptions</c> instrument does not reach
    /// prometheus-net's meter adapter, so we count here.
    /// </summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        Counter exceptions = Prometheus.Metrics.CreateCounter(
            "dotnet_exceptions_total",
            "Exceptions thrown in the process (first chance), by exception type.",
            new CounterConfiguration { LabelNames = ["type"] });
        exceptions.WithLabels("System.Exception"); // publish the family before the first exception
        AppDomain.CurrentDomain.FirstChanceException += (_, e) => exceptions.WithLabels(e.Exception.GetType().FullName ?? "unknown").Inc();
    }
}

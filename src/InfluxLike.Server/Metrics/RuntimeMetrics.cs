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

        // prometheus-net's meter adapter listens to every meter by default. ASP.NET Core's own meters then cost each
        // request a dozen measurements, each a label lookup (the memory pool records every buffer rented), and the
        // hosting and routing meters repeat what the HTTP middleware counts already (http_request_*, in progress
        // included): 5.6 % of the server's CPU samples in a profile of single-groupby-1-1-1. Kept: the runtime's
        // instruments, which are read at scrape time and cost requests nothing.
        Prometheus.Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = Exported);

        Counter exceptions = Prometheus.Metrics.CreateCounter(
            "dotnet_exceptions_total",
            "Exceptions thrown in the process (first chance), by exception type.",
            new CounterConfiguration { LabelNames = ["type"] });
        exceptions.WithLabels("System.Exception"); // publish the family before the first exception
        AppDomain.CurrentDomain.FirstChanceException += (_, e) => exceptions.WithLabels(e.Exception.GetType().FullName ?? "unknown").Inc();
    }

    /// <summary>The System.Diagnostics.Metrics instruments that /metrics publishes through the meter adapter.</summary>
    internal static bool Exported(System.Diagnostics.Metrics.Instrument instrument) => instrument.Meter.Name == "System.Runtime";
}

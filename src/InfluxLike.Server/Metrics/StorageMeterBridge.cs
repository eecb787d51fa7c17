using System.Diagnostics.Metrics;
using InfluxLike.Storage;
using Prometheus;

namespace InfluxLike.Server.Metrics;

/// <summary>
/// Publishes the storage engine's System.Diagnostics.Metrics instruments as Prometheus metrics named
/// <c>influxlike_storage_&lt;instrument&gt;</c> (counters get <c>_total</c>, histograms are in seconds or bytes).
/// prometheus-net's meter adapter does not pick up library meters by default, and doing it here keeps the
/// names and histogram buckets under our control.
/// </summary>
internal static class StorageMeterBridge
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Counter> Counters = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Histogram> Histograms = new();
    private static MeterListener? _listener;

    public static void Start()
    {
        if (Interlocked.CompareExchange(ref _listener, new MeterListener(), null) is not null)
        {
            return;
        }

        MeterListener listener = _listener!;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name != StorageMetrics.MeterName)
            {
                return;
            }

            string name = "influxlike_storage_" + instrument.Name;
            lock (Counters)
            {
                if (instrument is Counter<long> && !Counters.ContainsKey(instrument.Name))
                {
                    string[] labels = instrument.Name switch { "write_errors" => ["kind"], "compactions" => ["level"], _ => [] };
                    Counters[instrument.Name] = Prometheus.Metrics.CreateCounter(name + "_total", instrument.Description ?? name, new CounterConfiguration { LabelNames = labels });
                }
                else if (instrument is Histogram<double> && !Histograms.ContainsKey(instrument.Name))
                {
                    Histograms[instrument.Name] = Prometheus.Metrics.CreateHistogram(name + "_seconds", instrument.Description ?? name,
                        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 18) });
                }
            }

            l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (!Counters.TryGetValue(instrument.Name, out Counter? counter))
            {
                return;
            }

            if (counter.LabelNames.Length == 0)
            {
                counter.Inc(value);
                return;
            }

            string label = "";
            foreach (var tag in tags)
            {
                if (tag.Key == counter.LabelNames[0])
                {
                    label = tag.Value?.ToString() ?? "";
                }
            }

            counter.WithLabels(label).Inc(value);
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (Histograms.TryGetValue(instrument.Name, out Histogram? histogram))
            {
                histogram.Observe(value);
            }
        });
        listener.Start();

        // Publish the instruments now (their class initialises lazily on the first write), so /metrics shows the
        // counters at zero from start-up rather than only after the first write.
        _ = StorageMetrics.ValuesWritten;
    }
}

using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Prometheus;

namespace InfluxLike.Server.Replication;

/// <summary>What a stream is doing, for the API and the CLI.</summary>
internal sealed record ReplicationState(
    long QueueBytes, int? LatestResponseCode, string? LatestErrorMessage, DateTimeOffset? LatestSentAt,
    long SentPoints, long DroppedPoints, long FailedAttempts, double LagSeconds);

/// <summary>
/// One replication stream: its durable queue and the worker that forwards the queue to the remote's
/// <c>/api/v2/write</c> in gzip batches, in order.
/// <list type="bullet">
/// <item>2xx: the batch is acknowledged (removed from the queue).</item>
/// <item>429 and 503: wait for <c>Retry-After</c> (or back off), then send the same batch again.</item>
/// <item>400 and 422 (the remote refused some points for good; it wrote the others) and 413 of a single
/// record: dropped with an error log and a count when <see cref="ReplicationInfo.DropNonRetryableData"/>,
/// else retried with back-off. A 413 of several records halves the batch.</item>
/// <item>401, 403, 404 (a configuration the operator must fix), other statuses and network failures: back off
/// (1 s doubling to 60 s, with jitter) and retry; nothing is dropped.</item>
/// </list>
/// </summary>
internal sealed class ReplicationStream : IAsyncDisposable
{
    private const int MaxBatchBytes = 1 << 20;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    private static readonly Gauge QueueBytesGauge = Prometheus.Metrics.CreateGauge(
        "influxlike_replication_queue_bytes", "Bytes queued on disk and not yet delivered, by replication.", "replication");
    private static readonly Gauge LagGauge = Prometheus.Metrics.CreateGauge(
        "influxlike_replication_lag_seconds", "Age of the oldest record not yet delivered (0 when the queue is empty), by replication.", "replication");
    private static readonly Counter SentPointsCounter = Prometheus.Metrics.CreateCounter(
        "influxlike_replication_sent_points_total", "Field values delivered to the remote, by replication.", "replication");
    private static readonly Counter SentBytesCounter = Prometheus.Metrics.CreateCounter(
        "influxlike_replication_sent_bytes_total", "Line-protocol bytes delivered to the remote (before gzip), by replication.", "replication");
    private static readonly Counter FailuresCounter = Prometheus.Metrics.CreateCounter(
        "influxlike_replication_failures_total", "Failed deliveries, by replication and kind: network, throttled (429/503), refused (4xx), remote (5xx).", "replication", "kind");
    private static readonly Counter DroppedCounter = Prometheus.Metrics.CreateCounter(
        "influxlike_replication_dropped_points_total", "Field values that will never reach the remote, by replication and reason: queue_full, max_age, refused.", "replication", "reason");

    private readonly DurableQueue _queue;
    private readonly ReplicationStore _store;
    private readonly HttpClient _http;
    private readonly Serilog.ILogger _log;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private volatile ReplicationInfo _info;
    private int? _latestCode;
    private string? _latestError;
    private DateTimeOffset? _latestSentAt;
    private long _sentPoints, _droppedPoints, _failures;
    private long _oldestQueuedMs;
    private bool _queueFullLogged;

    public ReplicationStream(ReplicationInfo info, string queueFolder, ReplicationStore store, HttpClient http, Serilog.ILogger log, TimeProvider clock)
    {
        _info = info;
        _store = store;
        _http = http;
        _log = log.ForContext("Replication", info.Id);
        _clock = clock;
        _queue = DurableQueue.Open(queueFolder);
        if (_queue.RepairedBytes > 0)
        {
            _log.Warning("Replication {Name}: {Bytes} bytes at the end of its queue were torn by a crash and cut off (never acknowledged to a writer)", info.Name, _queue.RepairedBytes);
        }

        QueueBytesGauge.WithLabels(info.Id).Set(_queue.Bytes);
        _worker = Task.Run(() => RunAsync(_stop.Token));
    }

    public ReplicationInfo Info
    {
        get => _info;
        set
        {
            _info = value;
            _signal.Release(); // a new remote or bucket: try at once
        }
    }

    public ReplicationState State
    {
        get
        {
            long oldest = Interlocked.Read(ref _oldestQueuedMs);
            double lag = oldest == 0 || _queue.Bytes == 0 ? 0 : Math.Max(0, (_clock.GetUtcNow().ToUnixTimeMilliseconds() - oldest) / 1000.0);
            return new ReplicationState(_queue.Bytes, _latestCode, _latestError, _latestSentAt,
                Interlocked.Read(ref _sentPoints), Interlocked.Read(ref _droppedPoints), Interlocked.Read(ref _failures), lag);
        }
    }

    /// <summary>Queues a canonical batch durably. False when the queue is full: then the batch is dropped, counted and logged.</summary>
    public bool Enqueue(byte[] lines, int points)
    {
        ReplicationInfo info = _info;
        bool queued = _queue.Append(lines, _clock.GetUtcNow().ToUnixTimeMilliseconds(), info.MaxQueueSizeBytes);
        if (!queued)
        {
            Interlocked.Add(ref _droppedPoints, points);
            DroppedCounter.WithLabels(info.Id, "queue_full").Inc(points);
            if (!_queueFullLogged)
            {
                _queueFullLogged = true; // once per episode: a full queue is hit by every write until it drains
                _log.Error("Replication {Name}: the queue is full ({Bytes} of {Max} bytes); new writes are stored locally but not replicated until it drains", info.Name, _queue.Bytes, info.MaxQueueSizeBytes);
            }
        }
        else
        {
            _queueFullLogged = false;
        }

        QueueBytesGauge.WithLabels(info.Id).Set(_queue.Bytes);
        _signal.Release();
        return queued;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        TimeSpan backoff = TimeSpan.Zero;
        int batchBytes = MaxBatchBytes;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var (records, next) = _queue.Read(batchBytes);
                if (records.Count == 0)
                {
                    Interlocked.Exchange(ref _oldestQueuedMs, 0);
                    LagGauge.WithLabels(_info.Id).Set(0);
                    await _signal.WaitAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                    continue;
                }

                Interlocked.Exchange(ref _oldestQueuedMs, records[0].EnqueuedUnixMs);
                LagGauge.WithLabels(_info.Id).Set(State.LagSeconds);
                var (outcome, retryAfter) = await DeliverAsync(records, next, ct).ConfigureAwait(false);
                batchBytes = outcome == Outcome.Smaller
                    ? Math.Max(1, Math.Min(batchBytes, records.Sum(r => r.Payload.Length)) / 2)
                    : outcome == Outcome.Delivered ? MaxBatchBytes : batchBytes;
                switch (outcome)
                {
                    case Outcome.Delivered or Outcome.Smaller:
                        backoff = TimeSpan.Zero;
                        break;
                    case Outcome.RetryAfter:
                        await Task.Delay(retryAfter, ct).ConfigureAwait(false);
                        break;
                    default:
                        await Task.Delay(Backoff(ref backoff), ct).ConfigureAwait(false);
                        break;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The queue itself failed (a damaged record, a disk error): report and retry slowly.
                _latestError = e.Message;
                _log.Error(e, "Replication {Name}: reading its queue failed", _info.Name);
                await Task.Delay(Backoff(ref backoff), ct).ConfigureAwait(false);
            }
        }
    }

    private static TimeSpan Backoff(ref TimeSpan backoff)
    {
        backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        return backoff * (0.75 + (Random.Shared.NextDouble() * 0.5));
    }

    private enum Outcome
    {
        Delivered,
        Retry,
        RetryAfter,
        Smaller,
    }

    private async Task<(Outcome, TimeSpan)> DeliverAsync(List<QueueRecord> records, QueuePosition next, CancellationToken ct)
    {
        ReplicationInfo info = _info;
        long maxAgeMs = info.MaxAgeSeconds * 1000;
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var fresh = maxAgeMs > 0 ? records.Where(r => now - r.EnqueuedUnixMs <= maxAgeMs).ToList() : records;
        if (fresh.Count < records.Count)
        {
            int stale = records.Where(r => now - r.EnqueuedUnixMs > maxAgeMs).Sum(r => Points(r.Payload.Span));
            Interlocked.Add(ref _droppedPoints, stale);
            DroppedCounter.WithLabels(info.Id, "max_age").Inc(stale);
            _log.Warning("Replication {Name}: dropped {Points} values queued longer than its max age of {Seconds} s", info.Name, stale, info.MaxAgeSeconds);
        }

        if (fresh.Count == 0)
        {
            Acknowledge(next);
            return (Outcome.Delivered, default);
        }

        RemoteInfo? remote = _store.GetRemote(info.RemoteId);
        if (remote is null)
        {
            Fail(null, $"remote {info.RemoteId} does not exist", "refused");
            return (Outcome.Retry, default);
        }

        int points = fresh.Sum(r => Points(r.Payload.Span));
        long rawBytes = fresh.Sum(r => (long)r.Payload.Length);
        using var content = new ByteArrayContent(Gzip(fresh));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        content.Headers.ContentEncoding.Add("gzip");
        string bucket = info.RemoteBucketId ?? info.RemoteBucketName ?? "";
        var uri = new Uri(remote.RemoteUrl.TrimEnd('/') + "/api/v2/write?org=" + Uri.EscapeDataString(remote.RemoteOrgId)
            + "&bucket=" + Uri.EscapeDataString(bucket) + "&precision=ns");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", remote.RemoteApiToken);

        HttpResponseMessage response;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            Fail(null, $"cannot reach {remote.RemoteUrl}: {e.Message}", "network");
            return (Outcome.Retry, default);
        }

        using (response)
        {
            int code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                // Counted before the queue lets go of the batch: whoever sees the queue drained sees the counts final.
                _latestCode = code;
                _latestError = null;
                _latestSentAt = _clock.GetUtcNow();
                Interlocked.Add(ref _sentPoints, points);
                SentPointsCounter.WithLabels(info.Id).Inc(points);
                SentBytesCounter.WithLabels(info.Id).Inc(rawBytes);
                Acknowledge(next);
                return (Outcome.Delivered, default);
            }

            string body = await ReadErrorAsync(response, ct).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            {
                Fail(code, $"the remote is busy ({code}): {body}", "throttled");
                TimeSpan? after = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - _clock.GetUtcNow() : null);
                return after is { } a && a > TimeSpan.Zero
                    ? (Outcome.RetryAfter, a < MaxBackoff ? a : MaxBackoff)
                    : (Outcome.Retry, default);
            }

            if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge && fresh.Count > 1)
            {
                Fail(code, $"the remote refused a batch of {rawBytes} bytes as too large; sending smaller batches", "refused");
                return (Outcome.Smaller, default);
            }

            if (code is 400 or 413 or 422)
            {
                Fail(code, $"the remote refused the batch ({code}): {body}", "refused");
                if (info.DropNonRetryableData)
                {
                    // The remote wrote what it could of a 400 or 422 (partial writes): the rest is lost for good.
                    Interlocked.Add(ref _droppedPoints, points);
                    DroppedCounter.WithLabels(info.Id, "refused").Inc(points);
                    Acknowledge(next); // after counting, as above
                    _log.Error("Replication {Name}: the remote refused a batch of {Points} values for good ({Code}: {Message}); the batch is dropped", info.Name, points, code, body);
                    return (Outcome.Delivered, default);
                }

                return (Outcome.Retry, default);
            }

            Fail(code, $"the remote answered {code}: {body}", code < 500 ? "refused" : "remote");
            return (Outcome.Retry, default);
        }
    }

    private void Acknowledge(QueuePosition next)
    {
        _queue.Acknowledge(next);
        QueueBytesGauge.WithLabels(_info.Id).Set(_queue.Bytes);
    }

    private void Fail(int? code, string message, string kind)
    {
        bool changed = _latestError != message;
        _latestCode = code;
        _latestError = message;
        Interlocked.Increment(ref _failures);
        FailuresCounter.WithLabels(_info.Id, kind).Inc();
        if (changed)
        {
            _log.Warning("Replication {Name}: {Message}; will retry", _info.Name, message);
        }
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return text.Length > 500 ? text[..500] : text;
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    private static byte[] Gzip(List<QueueRecord> records)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (QueueRecord r in records)
            {
                gz.Write(r.Payload.Span);
            }
        }

        return ms.ToArray();
    }

    /// <summary>Field values in canonical lines: one per field; fields are separated by commas outside strings.</summary>
    internal static int Points(ReadOnlySpan<byte> lines)
    {
        int points = 0;
        var reader = new LineProtocol.LineProtocolReader(lines);
        try
        {
            while (reader.Read())
            {
                points += reader.FieldCount;
            }
        }
        finally
        {
            reader.Dispose();
        }

        return points;
    }

    /// <summary>Stops the worker; the queue stays on disk for the next start.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _worker.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _queue.Dispose();
        _stop.Dispose();
        _signal.Dispose();
    }

    /// <summary>Removes the stream's metrics (a deleted replication).</summary>
    public void RemoveMetrics()
    {
        string id = _info.Id;
        QueueBytesGauge.RemoveLabelled(id);
        LagGauge.RemoveLabelled(id);
        SentPointsCounter.RemoveLabelled(id);
        SentBytesCounter.RemoveLabelled(id);
    }
}

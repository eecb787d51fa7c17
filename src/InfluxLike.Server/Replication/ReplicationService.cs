using InfluxLike.LineProtocol;
using InfluxLike.Storage.Engine;
using Microsoft.Extensions.Hosting;

namespace InfluxLike.Server.Replication;

/// <summary>
/// Runs the replication streams of <see cref="ReplicationStore"/>: one durable queue and one sender per
/// stream, in <c>replications/&lt;id&gt;/</c> in the data folder. The write endpoints hand every accepted piece
/// of a write to <see cref="Enqueue"/> before they answer, so an acknowledged write is queued on disk.
/// </summary>
public sealed class ReplicationService : IHostedService, IAsyncDisposable
{
    private readonly ReplicationStore _store;
    private readonly string _folder;
    private readonly Serilog.ILogger _log;
    private readonly TimeProvider _clock;
    private readonly HttpClient _http;
    private readonly object _lock = new();
    private readonly Dictionary<string, ReplicationStream> _streams = new(StringComparer.Ordinal);
    private volatile ReplicationStream[] _all = [];
    private bool _started;

    public ReplicationService(ReplicationStore store, string dataDir, Serilog.ILogger log, TimeProvider clock)
    {
        _store = store;
        _folder = Path.Combine(dataDir, "replications");
        _log = log;
        _clock = clock;
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // follow DNS changes of the remote
            AutomaticDecompression = System.Net.DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("influxlike-replication/" + ServerVersion.Product);
        store.Changed += Sync;
    }

    public ReplicationStore Store => _store;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _started = true;
        }

        Sync();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        ReplicationStream[] streams;
        lock (_lock)
        {
            _started = false;
            streams = [.. _streams.Values];
            _streams.Clear();
            _all = [];
        }

        foreach (ReplicationStream s in streams)
        {
            await s.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The state of stream <paramref name="id"/>, or null when it is not running.</summary>
    internal ReplicationState? State(string id)
    {
        lock (_lock)
        {
            return _streams.TryGetValue(id, out ReplicationStream? s) ? s.State : null;
        }
    }

    /// <summary>Whether any stream replicates <paramref name="bucketId"/>: lets the write path skip the rewrite otherwise.</summary>
    public bool Replicates(string bucketId)
    {
        foreach (ReplicationStream s in _all)
        {
            if (s.Info.LocalBucketId == bucketId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Queues the valid entries of an accepted piece of a write, for every stream of its bucket, durably.
    /// A full queue drops the piece from that stream only (counted and logged); the local write stands.
    /// </summary>
    public void Enqueue(BucketInfo bucket, ReadOnlySpan<byte> body, Precision precision, long defaultTimeNs)
    {
        if (!Replicates(bucket.Id))
        {
            return;
        }

        byte[] lines = CanonicalLines.Rewrite(body, precision, defaultTimeNs, out int points);
        if (points == 0)
        {
            return;
        }

        foreach (ReplicationStream s in _all)
        {
            if (s.Info.LocalBucketId == bucket.Id)
            {
                s.Enqueue(lines, points);
            }
        }
    }

    private void Sync()
    {
        var removed = new List<ReplicationStream>();
        lock (_lock)
        {
            if (!_started)
            {
                return;
            }

            var wanted = _store.Replications.ToDictionary(r => r.Id, StringComparer.Ordinal);
            foreach (var (id, stream) in _streams.ToList())
            {
                if (!wanted.ContainsKey(id))
                {
                    _streams.Remove(id);
                    removed.Add(stream);
                }
            }

            foreach (ReplicationInfo info in wanted.Values)
            {
                if (_streams.TryGetValue(info.Id, out ReplicationStream? existing))
                {
                    if (existing.Info != info)
                    {
                        existing.Info = info;
                    }

                    continue;
                }

                try
                {
                    _streams[info.Id] = new ReplicationStream(info, QueueFolder(info.Id), _store, _http, _log, _clock);
                }
                catch (IOException e)
                {
                    _log.Error(e, "Replication {Name} ({Id}) cannot open its queue; it does not run", info.Name, info.Id);
                }
            }

            _all = [.. _streams.Values];
        }

        foreach (ReplicationStream s in removed)
        {
            string id = s.Info.Id;
            s.DisposeAsync().AsTask().GetAwaiter().GetResult();
            s.RemoveMetrics();
            try
            {
                Directory.Delete(QueueFolder(id), recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }

            _log.Information("Replication {Id} deleted with its queue", id);
        }
    }

    private string QueueFolder(string id) => Path.Combine(_folder, id);

    public async ValueTask DisposeAsync()
    {
        _store.Changed -= Sync;
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _http.Dispose();
    }
}

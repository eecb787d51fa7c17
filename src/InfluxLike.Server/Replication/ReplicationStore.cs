using System.Text.Json;
using System.Text.Json.Serialization;
using InfluxLike.Storage.IO;

namespace InfluxLike.Server.Replication;

/// <summary>A remote server replication streams write to (InfluxDB 2.x's "remote connection").</summary>
public sealed record RemoteInfo
{
    public required string Id { get; init; }

    public required string OrgId { get; init; }

    public required string Name { get; init; }

    public string? Description { get; init; }

    /// <summary>Base URL of the remote, e.g. <c>http://central:8086</c>; writes go to its <c>/api/v2/write</c>.</summary>
    public required string RemoteUrl { get; init; }

    /// <summary>The token sent to the remote (kept in the data folder, readable by the server's user only).</summary>
    public required string RemoteApiToken { get; init; }

    /// <summary>The organization on the remote (id or name, sent as <c>org</c>).</summary>
    public required string RemoteOrgId { get; init; }

    public bool AllowInsecureTls { get; init; }
}

/// <summary>A replication stream: every write accepted into a local bucket is forwarded to a remote bucket.</summary>
public sealed record ReplicationInfo
{
    /// <summary>InfluxDB's default queue limit (64 MiB).</summary>
    public const long DefaultMaxQueueSizeBytes = 67108860;

    /// <summary>InfluxDB's default: data older than a week is dropped rather than sent.</summary>
    public const long DefaultMaxAgeSeconds = 604800;

    /// <summary>The smallest queue allowed (InfluxDB asks for 32 MiB; edge boards may have less disk to spare).</summary>
    public const long MinQueueSizeBytes = 64 << 10;

    public required string Id { get; init; }

    public required string OrgId { get; init; }

    public required string Name { get; init; }

    public string? Description { get; init; }

    public required string RemoteId { get; init; }

    public required string LocalBucketId { get; init; }

    /// <summary>The remote bucket, by id or by name (one is set).</summary>
    public string? RemoteBucketId { get; init; }

    public string? RemoteBucketName { get; init; }

    public long MaxQueueSizeBytes { get; init; } = DefaultMaxQueueSizeBytes;

    /// <summary>Whether a batch the remote refuses for good (400, 413 of one record, 422) is dropped (logged and counted) rather than retried forever.</summary>
    public bool DropNonRetryableData { get; init; } = true;

    /// <summary>Queued data older than this is dropped instead of sent (0: kept however old).</summary>
    public long MaxAgeSeconds { get; init; } = DefaultMaxAgeSeconds;
}

/// <summary>
/// Remotes and replication streams in <c>replications.json</c> in the data folder, replaced atomically and
/// durably on every change. The file holds the remotes' tokens, so it is made readable by its owner only.
/// </summary>
public sealed class ReplicationStore
{
    public const string FileName = "replications.json";

    private readonly string _path;
    private readonly object _lock = new();
    private ReplicationData _data;

    private ReplicationStore(string path, ReplicationData data)
    {
        _path = path;
        _data = data;
    }

    /// <summary>Raised after every change, outside the store's lock.</summary>
    public event Action? Changed;

    public static ReplicationStore Open(string dataDir)
    {
        string path = Path.Combine(dataDir, FileName);
        ReplicationData data = File.Exists(path)
            ? JsonSerializer.Deserialize(File.ReadAllBytes(path), ReplicationJson.Default.ReplicationData) ?? new ReplicationData()
            : new ReplicationData();
        return new ReplicationStore(path, data);
    }

    public IReadOnlyList<RemoteInfo> Remotes
    {
        get
        {
            lock (_lock)
            {
                return _data.Remotes;
            }
        }
    }

    public IReadOnlyList<ReplicationInfo> Replications
    {
        get
        {
            lock (_lock)
            {
                return _data.Replications;
            }
        }
    }

    public RemoteInfo? GetRemote(string id) => Remotes.FirstOrDefault(r => r.Id == id);

    public ReplicationInfo? GetReplication(string id) => Replications.FirstOrDefault(r => r.Id == id);

    public void Put(RemoteInfo remote) =>
        Update(d => d with { Remotes = [.. d.Remotes.Where(r => r.Id != remote.Id), remote] });

    public void Put(ReplicationInfo replication) =>
        Update(d => d with { Replications = [.. d.Replications.Where(r => r.Id != replication.Id), replication] });

    /// <summary>Deletes a remote; refused (false) while a replication uses it.</summary>
    public bool DeleteRemote(string id, out string? refusal)
    {
        refusal = null;
        lock (_lock)
        {
            if (_data.Replications.FirstOrDefault(r => r.RemoteId == id) is { } user)
            {
                refusal = $"remote {id} is used by replication {user.Id} (\"{user.Name}\"); delete that first";
                return false;
            }

            if (!_data.Remotes.Any(r => r.Id == id))
            {
                return false;
            }

            Save(_data with { Remotes = [.. _data.Remotes.Where(r => r.Id != id)] });
        }

        Changed?.Invoke();
        return true;
    }

    public bool DeleteReplication(string id)
    {
        lock (_lock)
        {
            if (!_data.Replications.Any(r => r.Id == id))
            {
                return false;
            }

            Save(_data with { Replications = [.. _data.Replications.Where(r => r.Id != id)] });
        }

        Changed?.Invoke();
        return true;
    }

    private void Update(Func<ReplicationData, ReplicationData> change)
    {
        lock (_lock)
        {
            Save(change(_data));
        }

        Changed?.Invoke();
    }

    private void Save(ReplicationData data)
    {
        FileSystem.WriteAllBytesDurably(_path, JsonSerializer.SerializeToUtf8Bytes(data, ReplicationJson.Default.ReplicationData));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        _data = data;
    }
}

internal sealed record ReplicationData
{
    public int Version { get; init; } = 1;

    public RemoteInfo[] Remotes { get; init; } = [];

    public ReplicationInfo[] Replications { get; init; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ReplicationData))]
internal sealed partial class ReplicationJson : JsonSerializerContext
{
}

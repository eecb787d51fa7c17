using System.Text.Json;
using System.Text.Json.Serialization;
using InfluxLike.Storage.IO;

namespace InfluxLike.Storage.Engine;

/// <summary>A bucket: where points go, for how long they stay, how its shards cut time.</summary>
public sealed record BucketInfo
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string OrgId { get; init; }

    /// <summary>How long points are kept; zero keeps them forever.</summary>
    public TimeSpan Retention { get; init; }

    /// <summary>The time window of each shard.</summary>
    public TimeSpan ShardGroupDuration { get; init; }

    /// <summary>InfluxDB's default shard duration for a retention period: 1 h under 2 days, 1 day up to 6 months, else 7 days.</summary>
    public static TimeSpan DefaultShardGroupDuration(TimeSpan retention) =>
        retention == TimeSpan.Zero ? TimeSpan.FromDays(7)
        : retention < TimeSpan.FromDays(2) ? TimeSpan.FromHours(1)
        : retention <= TimeSpan.FromDays(180) ? TimeSpan.FromDays(1)
        : TimeSpan.FromDays(7);
}

public sealed record OrgInfo
{
    public required string Id { get; init; }

    public required string Name { get; init; }
}

/// <summary>The organisations and buckets of a data folder, persisted as one JSON file replaced atomically.</summary>
public sealed class Catalog
{
    public const string FileName = "catalog.json";

    private readonly string _path;
    private readonly object _lock = new();
    private CatalogData _data;

    private Catalog(string path, CatalogData data)
    {
        _path = path;
        _data = data;
    }

    public IReadOnlyList<OrgInfo> Orgs
    {
        get
        {
            lock (_lock)
            {
                return [.. _data.Orgs];
            }
        }
    }

    public IReadOnlyList<BucketInfo> Buckets
    {
        get
        {
            lock (_lock)
            {
                return [.. _data.Buckets];
            }
        }
    }

    public static Catalog Open(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        string path = Path.Combine(dataDir, FileName);
        if (!File.Exists(path))
        {
            return new Catalog(path, new CatalogData());
        }

        try
        {
            return new Catalog(path, JsonSerializer.Deserialize(File.ReadAllBytes(path), CatalogJson.Default.CatalogData) ?? new CatalogData());
        }
        catch (JsonException e)
        {
            throw new CorruptionException(path, e.BytePositionInLine ?? 0, "catalog is not valid JSON: " + e.Message);
        }
    }

    public OrgInfo GetOrCreateOrg(string name)
    {
        lock (_lock)
        {
            OrgInfo? org = _data.Orgs.FirstOrDefault(o => o.Name == name);
            if (org is not null)
            {
                return org;
            }

            org = new OrgInfo { Id = NewId(), Name = name };
            Save(_data with { Orgs = [.. _data.Orgs, org] });
            return org;
        }
    }

    /// <summary>Creates a bucket; the name must be unique within its organisation.</summary>
    public BucketInfo CreateBucket(string orgId, string name, TimeSpan retention, TimeSpan? shardGroupDuration = null)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A bucket needs a name.", nameof(name));
        }

        if (retention < TimeSpan.Zero)
        {
            throw new ArgumentException($"Retention must not be negative (got {retention}).", nameof(retention));
        }

        lock (_lock)
        {
            if (_data.Buckets.Any(b => b.OrgId == orgId && b.Name == name))
            {
                throw new InvalidOperationException($"bucket \"{name}\" already exists");
            }

            var bucket = new BucketInfo
            {
                Id = NewId(),
                Name = name,
                OrgId = orgId,
                Retention = retention,
                ShardGroupDuration = shardGroupDuration ?? BucketInfo.DefaultShardGroupDuration(retention),
            };
            Save(_data with { Buckets = [.. _data.Buckets, bucket] });
            return bucket;
        }
    }

    public BucketInfo? FindBucket(string orgId, string name)
    {
        lock (_lock)
        {
            return _data.Buckets.FirstOrDefault(b => b.OrgId == orgId && b.Name == name);
        }
    }

    public BucketInfo? GetBucket(string id)
    {
        lock (_lock)
        {
            return _data.Buckets.FirstOrDefault(b => b.Id == id);
        }
    }

    // 16 hex digits, as InfluxDB's ids.
    private static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    private void Save(CatalogData data)
    {
        string temp = _path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(data, CatalogJson.Default.CatalogData));
        using (var f = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Flush(flushToDisk: true);
        }

        FileSystem.ReplaceDurably(temp, _path);
        _data = data;
    }
}

internal sealed record CatalogData
{
    public int Version { get; init; } = 1;

    public OrgInfo[] Orgs { get; init; } = [];

    public BucketInfo[] Buckets { get; init; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CatalogData))]
internal sealed partial class CatalogJson : JsonSerializerContext
{
}

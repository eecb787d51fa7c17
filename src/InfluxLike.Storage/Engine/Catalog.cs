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

    public string? Description { get; init; }

    /// <summary>Most bytes the bucket may hold on disk; past it the retention enforcer drops its oldest shards. 0: no limit.</summary>
    public long MaxSizeBytes { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

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

    public string? Description { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
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

            return AddOrg(name, null);
        }
    }

    /// <summary>Creates an organisation; names are unique.</summary>
    /// <exception cref="CatalogConflictException">An organisation with that name exists.</exception>
    public OrgInfo CreateOrg(string name, string? description = null)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("An organization needs a name.", nameof(name));
        }

        lock (_lock)
        {
            if (_data.Orgs.Any(o => o.Name == name))
            {
                throw new CatalogConflictException($"organization with name \"{name}\" already exists");
            }

            return AddOrg(name, description);
        }
    }

    public OrgInfo? GetOrg(string id)
    {
        lock (_lock)
        {
            return _data.Orgs.FirstOrDefault(o => o.Id == id);
        }
    }

    public OrgInfo? FindOrg(string name)
    {
        lock (_lock)
        {
            return _data.Orgs.FirstOrDefault(o => o.Name == name);
        }
    }

    /// <summary>Removes an organisation that holds no bucket.</summary>
    /// <exception cref="CatalogConflictException">It still holds buckets.</exception>
    public bool DeleteOrg(string id)
    {
        lock (_lock)
        {
            if (!_data.Orgs.Any(o => o.Id == id))
            {
                return false;
            }

            if (_data.Buckets.Any(b => b.OrgId == id))
            {
                throw new CatalogConflictException("the organization still has buckets; delete them first");
            }

            Save(_data with { Orgs = [.. _data.Orgs.Where(o => o.Id != id)] });
            return true;
        }
    }

    private OrgInfo AddOrg(string name, string? description)
    {
        var now = DateTimeOffset.UtcNow;
        var org = new OrgInfo { Id = NewId(), Name = name, Description = description, CreatedAt = now, UpdatedAt = now };
        Save(_data with { Orgs = [.. _data.Orgs, org] });
        return org;
    }

    /// <summary>Creates a bucket; the name must be unique within its organisation.</summary>
    /// <exception cref="CatalogConflictException">The organisation already has a bucket of that name.</exception>
    public BucketInfo CreateBucket(string orgId, string name, TimeSpan retention, TimeSpan? shardGroupDuration = null, string? description = null, long maxSizeBytes = 0)
    {
        ValidateBucket(name, retention, shardGroupDuration);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSizeBytes);
        lock (_lock)
        {
            if (!_data.Orgs.Any(o => o.Id == orgId))
            {
                throw new ArgumentException($"organization {orgId} does not exist", nameof(orgId));
            }

            if (_data.Buckets.Any(b => b.OrgId == orgId && b.Name == name))
            {
                throw new CatalogConflictException($"bucket with name \"{name}\" already exists");
            }

            var now = DateTimeOffset.UtcNow;
            var bucket = new BucketInfo
            {
                Id = NewId(),
                Name = name,
                OrgId = orgId,
                Retention = retention,
                ShardGroupDuration = shardGroupDuration ?? BucketInfo.DefaultShardGroupDuration(retention),
                Description = description,
                MaxSizeBytes = maxSizeBytes,
                CreatedAt = now,
                UpdatedAt = now,
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

    /// <summary>
    /// Renames a bucket or changes its description, retention, shard duration or size limit. A new shard duration
    /// shapes only the shards created after it: existing shards keep the range they were created with.
    /// </summary>
    /// <exception cref="CatalogConflictException">The new name is taken in the organisation.</exception>
    public BucketInfo? UpdateBucket(string id, string? name = null, string? description = null, TimeSpan? retention = null, TimeSpan? shardGroupDuration = null, long? maxSizeBytes = null)
    {
        lock (_lock)
        {
            BucketInfo? old = _data.Buckets.FirstOrDefault(b => b.Id == id);
            if (old is null)
            {
                return null;
            }

            var updated = old with
            {
                Name = name ?? old.Name,
                Description = description ?? old.Description,
                Retention = retention ?? old.Retention,
                ShardGroupDuration = shardGroupDuration ?? old.ShardGroupDuration,
                MaxSizeBytes = maxSizeBytes ?? old.MaxSizeBytes,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
            if (updated.MaxSizeBytes < 0)
            {
                throw new ArgumentException($"maxSizeBytes must not be negative (got {updated.MaxSizeBytes})", nameof(maxSizeBytes));
            }

            ValidateBucket(updated.Name, updated.Retention, updated.ShardGroupDuration);
            if (name is not null && _data.Buckets.Any(b => b.OrgId == old.OrgId && b.Name == name && b.Id != id))
            {
                throw new CatalogConflictException($"bucket with name \"{name}\" already exists");
            }

            Save(_data with { Buckets = [.. _data.Buckets.Select(b => b.Id == id ? updated : b)] });
            return updated;
        }
    }

    /// <summary>Removes a bucket from the catalog (the engine removes its files).</summary>
    public bool DeleteBucket(string id)
    {
        lock (_lock)
        {
            if (!_data.Buckets.Any(b => b.Id == id))
            {
                return false;
            }

            Save(_data with { Buckets = [.. _data.Buckets.Where(b => b.Id != id)] });
            return true;
        }
    }

    private static void ValidateBucket(string name, TimeSpan retention, TimeSpan? shardGroupDuration)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("a bucket needs a name", nameof(name));
        }

        if (name.StartsWith('_'))
        {
            throw new ArgumentException($"bucket name \"{name}\" is invalid: names beginning with _ are reserved", nameof(name));
        }

        if (retention < TimeSpan.Zero)
        {
            throw new ArgumentException($"retention must not be negative (got {retention})", nameof(retention));
        }

        if (retention > TimeSpan.Zero && retention < TimeSpan.FromHours(1))
        {
            throw new ArgumentException("retention must be at least 1 hour (or 0 for infinite)", nameof(retention));
        }

        if (shardGroupDuration is { } d && d <= TimeSpan.Zero)
        {
            throw new ArgumentException("the shard group duration must be positive", nameof(shardGroupDuration));
        }
    }

    // 16 hex digits, as InfluxDB's ids.
    private static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    private void Save(CatalogData data)
    {
        FileSystem.WriteAllBytesDurably(_path, JsonSerializer.SerializeToUtf8Bytes(data, CatalogJson.Default.CatalogData));
        _data = data;
    }
}

/// <summary>A name is taken, or an object still holds others.</summary>
public sealed class CatalogConflictException(string message) : Exception(message);

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

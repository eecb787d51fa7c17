using InfluxLike.Query.Data;
using InfluxLike.Storage.Index;

namespace InfluxLike.Query.Runtime;

/// <summary>Everything one query runs with: its clock, its storage, its limits and its cancellation.</summary>
public sealed class QueryContext
{
    public long Now { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    public IQueryStorage? Storage { get; init; }

    /// <summary>The organisation the request acts for (buckets are looked up in it).</summary>
    public string? OrgId { get; init; }

    public string? DefaultBucket { get; init; }

    public CancellationToken CancellationToken { get; init; }

    public MemoryTracker Memory { get; init; } = new(long.MaxValue);

    /// <summary>The interpreter of this query's script (row functions run in it).</summary>
    public Interpreter? Interpreter { get; internal set; }

    /// <summary>The script's text, for EXPLAIN and error messages.</summary>
    public string Source { get; internal set; } = "";

    /// <summary>Turns the planner's storage push-down rules off (tests compare both plans).</summary>
    public bool DisablePushDown { get; init; }

    /// <summary>v.timeRangeStart and v.timeRangeStop (a task's window); default: the hour before now.</summary>
    public (long Start, long Stop)? TimeRange { get; init; }

    /// <summary>Parsed scripts shared between queries (the server's); null parses every time.</summary>
    public ScriptCache? Scripts { get; init; }
}

/// <summary>
/// Per-query memory accounting: operators that hold rows (storage reads, group, sort, pivot, window) reserve
/// what they hold and release it when done; going over the limit ends the query with a clear error instead of
/// letting the server run out of memory.
/// </summary>
public sealed class MemoryTracker(long limitBytes)
{
    private long _used;

    public long LimitBytes => limitBytes;

    public long Used => Interlocked.Read(ref _used);

    public long Peak { get; private set; }

    /// <summary>Reserves <paramref name="bytes"/>, or ends the query with a clear error when they do not fit in the limit.</summary>
    public void Reserve(long bytes)
    {
        if (!TryReserve(bytes))
        {
            throw new QueryException(
                $"query uses more than its memory limit of {limitBytes / (1024 * 1024)} MiB; narrow the time range or filter more series",
                null,
                QueryErrorKind.ResourceExhausted);
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> if they fit in what is left of the limit; false (nothing reserved) if not.</summary>
    public bool TryReserve(long bytes)
    {
        long now = Interlocked.Add(ref _used, bytes);
        if (now > limitBytes)
        {
            Interlocked.Add(ref _used, -bytes);
            return false;
        }

        if (now > Peak)
        {
            Peak = now;
        }

        return true;
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}

/// <summary>A bucket as the query engine sees it.</summary>
public sealed record BucketRef(string Id, string Name, string OrgId, long RetentionNanoseconds);

/// <summary>What a pushed-down read selects: a bucket, [start, stop), series through the index, then an exact series-level test.</summary>
public sealed record ReadSpec(
    BucketRef Bucket,
    long Start,
    long Stop,
    SeriesPredicate IndexPredicate,
    Func<SeriesMeta, bool>? SeriesFilter,
    IReadOnlySet<string>? Fields = null);

/// <summary>One series field as a pushed-down filter sees it: measurement, tags (sorted by key) and field.</summary>
public sealed record SeriesMeta(string Measurement, IReadOnlyList<KeyValuePair<string, string>> Tags, string Field);

/// <summary>The storage read API as the query engine uses it (implemented over the storage engine by the host).</summary>
public interface IQueryStorage
{
    BucketRef? FindBucket(string? orgId, string name);

    BucketRef? GetBucket(string id);

    IReadOnlyList<BucketRef> Buckets(string? orgId);

    /// <summary>One table per series field with points in the range: _start, _stop, _time, _value, _field, _measurement, tags.</summary>
    IEnumerable<Table> ReadRange(ReadSpec spec, QueryContext context);

    /// <summary>The series fields with points in the range that pass the spec (for the schema functions), with field types.</summary>
    IEnumerable<(SeriesMeta Series, Values.Kind Type)> Series(ReadSpec spec, QueryContext context);

    /// <summary>
    /// Per series field, one row per window of <paramref name="every"/> holding points (and, with
    /// <paramref name="createEmpty"/>, the empty ones): the columns aggregateWindow gives.
    /// </summary>
    IEnumerable<Table> ReadWindowAggregate(ReadSpec spec, long every, long offset, string aggregate, bool createEmpty, QueryContext context);

    /// <summary>What <c>first()</c> or <c>last()</c> gives on <see cref="ReadRange"/>'s tables: one row per series field.</summary>
    IEnumerable<Table> ReadSelector(ReadSpec spec, bool last, QueryContext context);

    /// <summary>
    /// <see cref="ReadRange"/>'s tables reduced to the point a selector (min, max, first, last) picks in each window
    /// of <paramref name="every"/>, its <c>_time</c> moved to the window's start: what a <c>group()</c> followed by
    /// <c>aggregateWindow</c> with the same selector and windows needs of each table.
    /// </summary>
    IEnumerable<Table> ReadWindowSelect(ReadSpec spec, long every, long offset, string selector, QueryContext context);

    /// <summary>
    /// Writes line protocol into a bucket (<c>to()</c>), named by id, or by name in the organisation given by id or
    /// name (the query's own when none). Throws <see cref="QueryException"/> when the bucket is unknown or not
    /// writable, or when points are refused.
    /// </summary>
    void Write(string? orgId, string? orgName, string? bucketName, string? bucketId, ReadOnlyMemory<byte> lineProtocol, QueryContext context) =>
        throw new QueryException("this storage does not take writes");
}

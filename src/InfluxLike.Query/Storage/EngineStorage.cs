using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Reads;

namespace InfluxLike.Query.Storage;

/// <summary>
/// The query engine's view of the storage engine, through its read API only: series fields become tables
/// (_start, _stop, _time, _value, _field, _measurement, tags; all but _time and _value in the group key).
/// </summary>
/// <param name="engine">The storage engine.</param>
/// <param name="canRead">Which buckets the query may read (its token's permissions); the others look absent.</param>
public sealed class EngineStorage(StorageEngine engine, Func<BucketInfo, bool>? canRead = null, Func<BucketInfo, bool>? canWrite = null) : IQueryStorage
{
    public void Write(string? orgId, string? orgName, string? bucketName, string? bucketId, ReadOnlyMemory<byte> lineProtocol, QueryContext context)
    {
        if (orgId is null && orgName is not null)
        {
            orgId = engine.Catalog.FindOrg(orgName)?.Id ?? throw new QueryException($"to: organization \"{orgName}\" not found", default, QueryErrorKind.NotFound);
        }

        orgId ??= context.OrgId;
        BucketInfo? bucket = bucketId is not null ? engine.Catalog.GetBucket(bucketId)
            : orgId is not null ? engine.Catalog.FindBucket(orgId, bucketName ?? "")
            : engine.Catalog.Buckets.FirstOrDefault(b => b.Name == bucketName);
        if (bucket is null || !(canWrite?.Invoke(bucket) ?? true))
        {
            // An unwritable bucket looks absent, as an unreadable one does to reads.
            throw new QueryException($"to: bucket \"{bucketName ?? bucketId}\" not found", default, QueryErrorKind.NotFound);
        }

        if (lineProtocol.IsEmpty)
        {
            return; // only the check
        }

        WriteResult result = engine.WriteLineProtocolAsync(bucket, lineProtocol, InfluxLike.LineProtocol.Precision.Nanoseconds, context.Now).GetAwaiter().GetResult();
        if (!result.Complete)
        {
            string first = result.LineErrors.Count > 0 ? result.LineErrors[0].ToString() : result.Rejected[0];
            throw new QueryException($"to: {result.LineErrors.Count + result.Rejected.Count} points refused by bucket \"{bucket.Name}\" ({first})");
        }
    }

    private static readonly ColumnMeta StartMeta = new("_start", Kind.Time);
    private static readonly ColumnMeta StopMeta = new("_stop", Kind.Time);
    private static readonly ColumnMeta TimeMeta = new("_time", Kind.Time);
    private static readonly ColumnMeta FieldMeta = new("_field", Kind.String);
    private static readonly ColumnMeta MeasurementMeta = new("_measurement", Kind.String);

    public BucketRef? FindBucket(string? orgId, string name)
    {
        var bucket = orgId is null
            ? engine.Catalog.Buckets.FirstOrDefault(b => b.Name == name && Readable(b))
            : engine.Catalog.FindBucket(orgId, name);
        return bucket is null || !Readable(bucket) ? null : Ref(bucket);
    }

    public BucketRef? GetBucket(string id) => engine.Catalog.GetBucket(id) is { } b && Readable(b) ? Ref(b) : null;

    public IReadOnlyList<BucketRef> Buckets(string? orgId) =>
        [.. engine.Catalog.Buckets.Where(b => (orgId is null || b.OrgId == orgId) && Readable(b)).Select(Ref)];

    private bool Readable(BucketInfo b) => canRead is null || canRead(b);

    private static BucketRef Ref(BucketInfo b) => new(b.Id, b.Name, b.OrgId, b.Retention.Ticks * 100);

    private ReadRequest Request(ReadSpec spec)
    {
        var bucket = engine.Catalog.GetBucket(spec.Bucket.Id) ?? throw new QueryException($"bucket \"{spec.Bucket.Name}\" was deleted", null, QueryErrorKind.NotFound);
        long start = Math.Max(spec.Start, TimeRange.MinNanoseconds);
        long stop = Math.Min(spec.Stop, TimeRange.MaxNanoseconds + 1);
        var filter = spec.SeriesFilter;
        return new ReadRequest(bucket, start, stop, spec.IndexPredicate, spec.Fields,
            filter is null ? null : (m, tags, f) => filter(new SeriesMeta(m, tags, f)));
    }

    public IEnumerable<(SeriesMeta Series, Kind Type)> Series(ReadSpec spec, QueryContext context)
    {
        foreach (var data in StorageReader.ReadFilter(engine, Request(spec)))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            yield return (new SeriesMeta(data.Measurement, data.Tags, data.Field), KindOf(data.Type));
        }
    }

    public IEnumerable<Table> ReadRange(ReadSpec spec, QueryContext context)
    {
        var request = Request(spec);
        foreach (var data in StorageReader.ReadFilter(engine, request))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            long bytes = (data.Times.Length * 16L) + 256;
            context.Memory.Reserve(bytes);
            try
            {
                yield return ToTable(data, spec.Start, spec.Stop);
            }
            finally
            {
                context.Memory.Release(bytes);
            }
        }
    }

    public IEnumerable<Table> ReadSelector(ReadSpec spec, bool last, QueryContext context)
    {
        foreach (var data in StorageReader.ReadSelector(engine, Request(spec), last))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            yield return ToTable(data, spec.Start, spec.Stop);
        }
    }

    public static Kind KindOf(FieldType type) => type switch
    {
        FieldType.Float => Kind.Float,
        FieldType.Integer => Kind.Int,
        FieldType.Unsigned => Kind.UInt,
        FieldType.Boolean => Kind.Bool,
        _ => Kind.String,
    };

    private static GroupKey Key(SeriesField data, long start, long stop)
    {
        var metas = new ColumnMeta[4 + data.Tags.Count];
        var values = new Value[metas.Length];
        metas[0] = StartMeta;
        values[0] = Value.Time(start);
        metas[1] = StopMeta;
        values[1] = Value.Time(stop);
        metas[2] = FieldMeta;
        values[2] = Value.String(data.Field);
        metas[3] = MeasurementMeta;
        values[3] = Value.String(data.Measurement);
        for (int i = 0; i < data.Tags.Count; i++)
        {
            metas[4 + i] = new ColumnMeta(data.Tags[i].Key, Kind.String);
            values[4 + i] = Value.String(data.Tags[i].Value);
        }

        return new GroupKey(metas, values);
    }

    private static Table ToTable(SeriesFieldData data, long start, long stop)
    {
        var kind = KindOf(data.Type);
        var values = kind != Kind.String ? new ColumnData(kind, data.Bits, null, null)
            : data.Strings.Length == data.Times.Length ? new ColumnData(Kind.String, null, [.. data.Strings.Select(s => s is null ? "" : Encoding.UTF8.GetString(s))], null)
            // The index types a field by the first type it saw in the measurement; another series may hold numbers under
            // it (types conflict per series and shard only). Those points read as empty strings, as they always did.
            : new ColumnData(Kind.String, null, Enumerable.Repeat("", data.Times.Length).ToArray(), null);
        return PointsTable(Key(data, start, stop), kind, data.Times, values);
    }

    // A table of points as storage reads give them: _start, _stop, _time, _value, then the rest of the key.
    private static Table PointsTable(GroupKey key, Kind kind, long[] times, ColumnData values)
    {
        int n = times.Length;
        var columns = new ColumnMeta[key.Columns.Length + 2];
        var columnData = new ColumnData[columns.Length];
        columns[0] = StartMeta;
        columns[1] = StopMeta;
        columns[2] = TimeMeta;
        columns[3] = new ColumnMeta("_value", kind);
        columnData[0] = ColumnData.Constant(Kind.Time, key.Values[0], n);
        columnData[1] = ColumnData.Constant(Kind.Time, key.Values[1], n);
        columnData[2] = new ColumnData(Kind.Time, times, null, null);
        columnData[3] = values;
        for (int k = 2; k < key.Columns.Length; k++)
        {
            columns[k + 2] = key.Columns[k];
            columnData[k + 2] = ColumnData.Constant(Kind.String, key.Values[k], n);
        }

        return new Table(key, columns, columnData, n);
    }

    public IEnumerable<Table> ReadWindowAggregate(ReadSpec spec, long every, long offset, string aggregate, bool createEmpty, QueryContext context)
    {
        var request = Request(spec);
        var which = aggregate switch
        {
            "count" => WindowAggregate.Count,
            "sum" => WindowAggregate.Sum,
            "mean" => WindowAggregate.Mean,
            "min" => WindowAggregate.Min,
            "max" => WindowAggregate.Max,
            "first" => WindowAggregate.First,
            "last" => WindowAggregate.Last,
            _ => throw new QueryException($"aggregate \"{aggregate}\" cannot be computed by storage"),
        };
        bool selector = Aggregates.IsSelector(aggregate);
        var windowSpec = new Grouping.WindowSpec(FluxDuration.FromNanoseconds(every), FluxDuration.FromNanoseconds(every), FluxDuration.FromNanoseconds(offset));
        foreach (var series in StorageReader.SeriesFields(engine, request))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (series.Type == FieldType.String || (series.Type == FieldType.Boolean && which is not (WindowAggregate.Count or WindowAggregate.First or WindowAggregate.Last)))
            {
                // Window values carry no strings, and Flux's aggregates treat booleans as not numeric: the general operator.
                if (StorageReader.Read(engine, request, series) is { } data)
                {
                    var table = ToTable(data, spec.Start, spec.Stop);
                    yield return Grouping.AggregateWindow(table, windowSpec, t => Aggregates.Apply(aggregate, t, "_value"), "_value", "_stop", "_time", createEmpty, selector);
                }

                continue;
            }

            // Aggregated block by block as storage decodes them: the range's points are never gathered.
            var windows = StorageReader.AggregateWindows(engine, request, series, every, offset, which);
            if (windows.Count > 0)
            {
                yield return WindowTable(Key(series, spec.Start, spec.Stop), series.Type, windows, windowSpec, which, selector, createEmpty);
            }
        }
    }

    public IEnumerable<Table> ReadWindowSelect(ReadSpec spec, long every, long offset, string selector, QueryContext context)
    {
        var request = Request(spec);
        var which = selector switch
        {
            "min" => WindowAggregate.Min,
            "max" => WindowAggregate.Max,
            "first" => WindowAggregate.First,
            "last" => WindowAggregate.Last,
            _ => throw new QueryException($"\"{selector}\" is not a selector storage computes"),
        };
        var windowSpec = new Grouping.WindowSpec(FluxDuration.FromNanoseconds(every), FluxDuration.FromNanoseconds(every), FluxDuration.FromNanoseconds(offset));
        foreach (var series in StorageReader.SeriesFields(engine, request))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (series.Type is FieldType.String or FieldType.Boolean)
            {
                // Window values carry no strings, and booleans compare as Flux compares them: the general way.
                if (StorageReader.Read(engine, request, series) is { } data)
                {
                    yield return Grouping.PreSelect(ToTable(data, spec.Start, spec.Stop), windowSpec, "_value", selector);
                }

                continue;
            }

            var windows = StorageReader.AggregateWindows(engine, request, series, every, offset, which);
            int n = windows.Count;
            if (n == 0)
            {
                continue;
            }

            var times = new long[n];
            var values = new long[n];
            for (int i = 0; i < n; i++)
            {
                times[i] = windows[i].Start;
                values[i] = windows[i].Bits;
            }

            yield return PointsTable(Key(series, spec.Start, spec.Stop), KindOf(series.Type), times, new ColumnData(KindOf(series.Type), values, null, null));
        }
    }

    // The same table the general aggregateWindow builds: the aggregate's columns, then _time from each window's stop.
    private static Table WindowTable(GroupKey key, FieldType type, List<WindowValue> windows, Grouping.WindowSpec spec, WindowAggregate which, bool selector, bool createEmpty)
    {
        var valueKind = which switch
        {
            WindowAggregate.Count => Kind.Int,
            WindowAggregate.Mean => Kind.Float,
            _ => KindOf(type),
        };
        int n;
        long[] times, values;
        bool[]? nulls = null;
        if (!createEmpty)
        {
            // every window listed holds points
            n = windows.Count;
            times = new long[n];
            values = new long[n];
            for (int i = 0; i < n; i++)
            {
                times[i] = windows[i].Stop;
                values[i] = windows[i].Bits;
            }
        }
        else
        {
            var bounds = new List<(long Start, long Stop)>();
            foreach (var (s, e, _) in Grouping.Windows(Table.EmptyFor(key), spec, "_time", createEmpty: true))
            {
                bounds.Add((s, e));
            }

            n = bounds.Count;
            times = new long[n];
            values = new long[n];
            int wi = 0;
            for (int i = 0; i < n; i++)
            {
                times[i] = bounds[i].Stop;
                if (wi < windows.Count && windows[wi].Start == bounds[i].Start)
                {
                    values[i] = windows[wi].Bits;
                    wi++;
                }
                else if (which == WindowAggregate.Count)
                {
                    values[i] = 0;
                }
                else
                {
                    nulls ??= new bool[n];
                    nulls[i] = true;
                }
            }
        }

        // Key columns, with _value placed where the general operator puts it.
        var columns = new List<ColumnMeta>();
        var columnData = new List<ColumnData>();
        var valueColumn = new ColumnData(valueKind, values, null, nulls);
        if (selector)
        {
            columns.Add(key.Columns[0]);
            columnData.Add(ColumnData.Constant(Kind.Time, key.Values[0], n));
            columns.Add(key.Columns[1]);
            columnData.Add(ColumnData.Constant(Kind.Time, key.Values[1], n));
            columns.Add(new ColumnMeta("_value", valueKind));
            columnData.Add(valueColumn);
            for (int k = 2; k < key.Columns.Length; k++)
            {
                columns.Add(key.Columns[k]);
                columnData.Add(ColumnData.Constant(key.Columns[k].Type, key.Values[k], n));
            }
        }
        else
        {
            for (int k = 0; k < key.Columns.Length; k++)
            {
                columns.Add(key.Columns[k]);
                columnData.Add(ColumnData.Constant(key.Columns[k].Type, key.Values[k], n));
            }

            columns.Add(new ColumnMeta("_value", valueKind));
            columnData.Add(valueColumn);
        }

        columns.Add(TimeMeta);
        columnData.Add(new ColumnData(Kind.Time, times, null, null));
        return new Table(key, [.. columns], [.. columnData], n);
    }
}

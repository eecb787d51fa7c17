using System.Buffers;
using InfluxLike.LineProtocol;
using InfluxLike.Query.Data;
using InfluxLike.Query.Planning;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>
/// <c>to()</c>: writes every row into a bucket and passes the tables on unchanged. A row is a point:
/// measurement from <c>_measurement</c>, time from <c>timeColumn</c>, tags from <c>tagColumns</c> (default:
/// the string columns of the group key but _measurement, _field, _start and _stop), and fields either
/// <c>_field</c> = <c>_value</c> or what <c>fieldFn(r)</c> returns. Rows with a null time, measurement or value are
/// skipped, as InfluxDB skips null fields.
/// </summary>
internal static class ToFunction
{
    public static Builtin Create() => new("to", "tables", a =>
    {
        IQueryStorage storage = a.Interpreter.Context.Storage ?? throw a.Error("this query has no storage to write to");
        string? bucket = a.Has("bucket") ? a.String("bucket") : null;
        string? bucketId = a.Has("bucketID") ? a.String("bucketID") : null;
        if ((bucket is null) == (bucketId is null))
        {
            throw a.Error("give exactly one of bucket and bucketID");
        }

        if (a.Has("host") || a.Has("token"))
        {
            throw a.Error("writing to another host (host, token) is not supported; write to a bucket of this server");
        }

        string? orgId = a.Has("orgID") ? a.String("orgID") : null;
        string? org = a.Has("org") ? a.String("org") : null;
        string timeColumn = a.String("timeColumn", "_time");
        string[]? tagColumns = a.Has("tagColumns") ? a.Strings("tagColumns") : null;
        FunctionValue? fieldFn = a.OptionalFunction("fieldFn");
        var interpreter = a.Interpreter;

        // The bucket is checked when the script is prepared, data or not: a wrong name fails at once, clearly.
        try
        {
            storage.Write(orgId, org, bucket, bucketId, ReadOnlyMemory<byte>.Empty, interpreter.Context);
        }
        catch (QueryException e)
        {
            throw new QueryException(e.Message, a.Span, e.Kind);
        }

        return Value.Stream(new TableStream(new PerTableNode("to", a.Stream("tables"), (t, ctx) =>
        {
            if (!t.IsEmpty)
            {
                storage.Write(orgId, org, bucket, bucketId, Lines(t, timeColumn, tagColumns, fieldFn, interpreter), ctx);
            }

            return [t];
        }, $"bucket: \"{bucket ?? bucketId}\"")));
    });

    private static ReadOnlyMemory<byte> Lines(Table t, string timeColumn, string[]? tagColumns, FunctionValue? fieldFn, Interpreter interpreter)
    {
        int mc = t.IndexOf("_measurement");
        int tc = t.IndexOf(timeColumn);
        if (mc < 0 || tc < 0)
        {
            throw new QueryException($"to: a table needs a _measurement column and a \"{timeColumn}\" column");
        }

        string[] tags = tagColumns ?? [.. t.Key.Columns.Where(c => c.Type == Kind.String && c.Name is not ("_measurement" or "_field" or "_start" or "_stop")).Select(c => c.Name)];
        int[] tagIdx = [.. tags.Select(t.IndexOf)];
        int fc = t.IndexOf("_field"), vc = t.IndexOf("_value");
        if (fieldFn is null && (fc < 0 || vc < 0))
        {
            throw new QueryException("to: without fieldFn a table needs _field and _value columns");
        }

        RowFunction? fields = fieldFn is null ? null : new RowFunction(fieldFn, interpreter);
        fields?.Bind(t);
        var output = new ArrayBufferWriter<byte>(t.Rows * 64);
        var writer = new LineProtocolWriter(output);
        for (int r = 0; r < t.Rows; r++)
        {
            if (t.Data[mc].IsNull(r) || t.Data[tc].IsNull(r))
            {
                continue;
            }

            var values = new List<(string Name, Value Value)>();
            if (fields is null)
            {
                if (!t.Data[fc].IsNull(r) && !t.Data[vc].IsNull(r))
                {
                    values.Add((t.Data[fc].Get(r).AsString, t.Data[vc].Get(r)));
                }
            }
            else
            {
                Value rec = fields.Invoke(interpreter, r);
                if (rec.Kind != Kind.Record)
                {
                    throw new QueryException("to: fieldFn must return a record of field names and values");
                }

                var rv = rec.AsRecord;
                for (int i = 0; i < rv.Count; i++)
                {
                    if (rv.Values[i].Kind != Kind.Null)
                    {
                        values.Add((rv.Names[i], rv.Values[i]));
                    }
                }
            }

            if (values.Count == 0)
            {
                continue;
            }

            writer.StartLine(t.Data[mc].Get(r).AsString);
            for (int i = 0; i < tags.Length; i++)
            {
                if (tagIdx[i] >= 0 && !t.Data[tagIdx[i]].IsNull(r) && t.Data[tagIdx[i]].Get(r) is { Kind: Kind.String } tag && tag.AsString.Length > 0)
                {
                    writer.AddTag(tags[i], tag.AsString);
                }
            }

            foreach (var (name, v) in values)
            {
                switch (v.Kind)
                {
                    case Kind.Float:
                        writer.AddField(name, v.AsFloat);
                        break;
                    case Kind.Int:
                        writer.AddField(name, v.AsInt);
                        break;
                    case Kind.UInt:
                        writer.AddField(name, v.AsUInt);
                        break;
                    case Kind.Bool:
                        writer.AddField(name, v.AsBool);
                        break;
                    case Kind.String:
                        writer.AddField(name, v.AsString);
                        break;
                    default:
                        throw new QueryException($"to: field \"{name}\" is {Value.KindName(v.Kind)}; fields are float, int, uint, bool or string");
                }
            }

            writer.EndLine(t.Data[tc].Get(r).AsTime);
        }

        return output.WrittenMemory;
    }
}

using CsCheck;
using InfluxLike.Query.Csv;
using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// The annotated CSV writer's output reads back as the tables written, whichever columns are constant (written as
/// prepared runs of text) or varying, with nulls, strings that need quoting, and several tables and results.
/// </summary>
public sealed class CsvRoundTripTests
{
    // No empty string: annotated CSV writes "" and null alike (an empty cell), and reads an empty cell as null.
    private static readonly Gen<string?> Text = Gen.OneOf(
        Gen.Const((string?)null),
        Gen.String[Gen.Char["ab, \"\n"], 1, 6].Select(s => (string?)s),
        Gen.String[Gen.Char.AlphaNumeric, 1, 8].Select(s => (string?)s));

    private static readonly Gen<Value> Number = Gen.OneOf(
        Gen.Const(Value.Null),
        Gen.Double[-1e6, 1e6].Select(Value.Float),
        Gen.Long[-1_000_000, 1_000_000].Select(v => Value.Float(v / 8.0)));

    // One table: a constant string tag in the group key, a constant time, a varying time and value, and a tag that
    // either varies or is constant; 1 to 20 rows.
    private static readonly Gen<Table> Tables =
        Gen.Select(Gen.Int[1, 20], Text, Gen.Bool, Gen.Long[0, 1L << 60], Text.Array[20], Number.Array[20]).Select((rows, tag, tagVaries, start, others, values) =>
        {
            ColumnMeta[] columns =
            [
                new("_start", Kind.Time), new("_time", Kind.Time), new("_value", Kind.Float), new("host", Kind.String), new("other", Kind.String),
            ];
            var times = new long[rows];
            var bits = new long[rows];
            var valueNulls = new bool[rows];
            var strings = new string?[rows];
            for (int i = 0; i < rows; i++)
            {
                times[i] = start + (i * 1_000_000_007L);
                valueNulls[i] = values[i].IsNull;
                bits[i] = values[i].IsNull ? 0 : values[i].Bits;
                strings[i] = others[i];
            }

            Value hostValue = tag is null ? Value.Null : Value.String(tag);
            ColumnData[] data =
            [
                ColumnData.Constant(Kind.Time, Value.Time(start), rows),
                new(Kind.Time, times, null, null),
                new(Kind.Float, bits, null, valueNulls),
                ColumnData.Constant(Kind.String, hostValue, rows),
                tagVaries ? new(Kind.String, null, strings, [.. strings.Select(s => s is null)]) : ColumnData.Constant(Kind.String, Value.String("fixed"), rows),
            ];
            var key = new GroupKey([columns[0], columns[3]], [Value.Time(start), hostValue]);
            return new Table(key, columns, data, rows);
        });

    [Fact]
    public void Written_tables_read_back_equal()
    {
        Gen.Select(Tables.Array[1, 4], Gen.Bool).Sample((tables, twoResults) =>
        {
            var text = new StringWriter();
            var writer = new AnnotatedCsvWriter(text);
            var written = new List<(string Result, Table Table)>();
            for (int i = 0; i < tables.Length; i++)
            {
                string result = twoResults && i % 2 == 1 ? "second" : "_result";
                writer.WriteTable(result, tables[i]);
                written.Add((result, tables[i]));
            }

            writer.Finish();
            var read = AnnotatedCsvReader.Read(text.ToString());
            foreach (string result in written.Select(w => w.Result).Distinct())
            {
                var want = written.Where(w => w.Result == result).Select(w => w.Table).ToList();
                var got = read.Where(r => r.Result == result).Select(r => r.Table).ToList();
                string? diff = TableComparer.Diff(got, want);
                Assert.True(diff is null, diff + "\n" + text);
            }
        }, iter: 2_000);
    }
}

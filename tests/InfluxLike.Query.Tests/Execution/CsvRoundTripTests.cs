using System.Buffers;
using System.Text;
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
        Gen.String[Gen.Char.AlphaNumeric, 1, 8].Select(s => (string?)s),
        Gen.String[Gen.Char["aé€日"], 1, 6].Select(s => (string?)s), // two- and three-byte UTF-8
        Gen.Const((string?)"😀 x")); // a surrogate pair, four bytes

    private static readonly Gen<Value> Number = Gen.OneOf(
        Gen.Const(Value.Null),
        Gen.Double[-1e6, 1e6].Select(Value.Float),
        Gen.Long[-1_000_000, 1_000_000].Select(v => Value.Float(v / 8.0)),
        Gen.Double.Where(double.IsFinite).Select(Value.Float), // up to 309 digits before the point or 324 after it
        Gen.OneOf(Gen.Const(double.PositiveInfinity), Gen.Const(double.NegativeInfinity), Gen.Const(double.Epsilon), Gen.Const(-double.MaxValue)).Select(Value.Float));

    // One table: a constant string tag in the group key, a constant time, a varying time, value, integer and boolean,
    // and a tag that either varies or is constant; 1 to 20 rows. A value column without nulls has no null array, and
    // with the tag constant the writer takes its number-rows path; otherwise the cell-by-cell one.
    private static readonly Gen<Table> Tables =
        Gen.Select(Gen.Int[1, 20], Text, Gen.Bool, Gen.Long[0, 1L << 60], Text.Array[20], Number.Array[20], Gen.Long.Array[20], Gen.Bool.Array[20]).Select((rows, tag, tagVaries, start, others, values, ints, flags) =>
        {
            ColumnMeta[] columns =
            [
                new("_start", Kind.Time), new("_time", Kind.Time), new("_value", Kind.Float), new("host", Kind.String), new("other", Kind.String),
                new("n", Kind.Int), new("ok", Kind.Bool),
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
                new(Kind.Float, bits, null, valueNulls.Any(n => n) ? valueNulls : null),
                ColumnData.Constant(Kind.String, hostValue, rows),
                tagVaries ? new(Kind.String, null, strings, [.. strings.Select(s => s is null)]) : ColumnData.Constant(Kind.String, Value.String("fixed"), rows),
                new(Kind.Int, ints[..rows], null, null),
                new(Kind.Bool, [.. flags[..rows].Select(f => f ? 1L : 0L)], null, null),
            ];
            var key = new GroupKey([columns[0], columns[3]], [Value.Time(start), hostValue]);
            return new Table(key, columns, data, rows);
        });

    [Fact]
    public void Written_tables_read_back_equal()
    {
        Gen.Select(Tables.Array[1, 4], Gen.Bool).Sample((tables, twoResults) =>
        {
            var bytes = new ArrayBufferWriter<byte>();
            var writer = new AnnotatedCsvWriter(bytes);
            var written = new List<(string Result, Table Table)>();
            for (int i = 0; i < tables.Length; i++)
            {
                string result = twoResults && i % 2 == 1 ? "second" : "_result";
                writer.WriteTable(result, tables[i]);
                written.Add((result, tables[i]));
            }

            writer.Finish();
            string text = Encoding.UTF8.GetString(bytes.WrittenSpan);
            var read = AnnotatedCsvReader.Read(text);
            foreach (string result in written.Select(w => w.Result).Distinct())
            {
                var want = written.Where(w => w.Result == result).Select(w => w.Table).ToList();
                var got = read.Where(r => r.Result == result).Select(r => r.Table).ToList();
                string? diff = TableComparer.Diff(got, want);
                Assert.True(diff is null, diff + "\n" + text);
            }
        }, iter: 2_000);
    }

    [Fact]
    public void Rows_of_numbers_are_written_alike_on_both_paths()
    {
        // Without null arrays the writer takes its number-rows path; with all-false null arrays (no null either) the
        // cell-by-cell one. The bytes must be the same.
        var floats = Gen.OneOf(Gen.Double, Gen.Double[-1e3, 1e3], Gen.Const(double.NaN), Gen.Const(double.PositiveInfinity), Gen.Const(double.Epsilon), Gen.Const(-double.MaxValue));
        Gen.Select(Gen.Int[1, 40], Gen.Long.Array[40], floats.Array[40], Gen.Long.Array[40], Gen.Bool.Array[40]).Sample((rows, times, values, ints, flags) =>
        {
            ColumnMeta[] columns = [new("_time", Kind.Time), new("_value", Kind.Float), new("n", Kind.Int), new("u", Kind.UInt), new("ok", Kind.Bool), new("host", Kind.String)];
            Table Make(bool nullArrays)
            {
                bool[]? Nulls() => nullArrays ? new bool[rows] : null;
                ColumnData[] data =
                [
                    new(Kind.Time, times[..rows], null, Nulls()),
                    new(Kind.Float, [.. values[..rows].Select(BitConverter.DoubleToInt64Bits)], null, Nulls()),
                    new(Kind.Int, ints[..rows], null, Nulls()),
                    new(Kind.UInt, [.. Enumerable.Reverse(ints[..rows])], null, Nulls()),
                    new(Kind.Bool, [.. flags[..rows].Select(f => f ? 1L : 0L)], null, Nulls()),
                    ColumnData.Constant(Kind.String, Value.String("a"), rows),
                ];
                return new Table(new GroupKey([columns[5]], [Value.String("a")]), columns, data, rows);
            }

            Assert.Equal(AnnotatedCsvWriter.ToText([("_result", Make(true))]), AnnotatedCsvWriter.ToText([("_result", Make(false))]));
        }, iter: 3_000);
    }

    [Fact]
    public void A_lone_surrogate_in_a_string_is_written_as_the_replacement_character()
    {
        var table = OneStringColumn(["a\uD83Db", "\uDE00"]);
        string text = AnnotatedCsvWriter.ToText([("_result", table)]);
        Assert.Contains(",a\uFFFDb\r\n", text, StringComparison.Ordinal);
        Assert.Contains(",\uFFFD\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_table_is_handed_to_the_output_in_pieces_of_about_16_KiB()
    {
        var table = OneStringColumn([.. Enumerable.Range(0, 5_000).Select(i => "value " + i)]);
        var output = new RecordingWriter();
        var writer = new AnnotatedCsvWriter(output);
        writer.WriteTable("_result", table);
        writer.Finish();
        Assert.True(output.Advances.Count >= 3, $"{output.Advances.Count} pieces");
        Assert.All(output.Advances, n => Assert.InRange(n, 1, (16 * 1024) + 100));
        Assert.Equal(5_000, AnnotatedCsvReader.Read(Encoding.UTF8.GetString(output.Written.WrittenSpan)).Single().Table.Rows);
    }

    private static Table OneStringColumn(string[] values)
    {
        ColumnMeta[] columns = [new("_value", Kind.String)];
        ColumnData[] data = [new(Kind.String, null, values, new bool[values.Length])];
        return new Table(new GroupKey([], []), columns, data, values.Length);
    }

    // Records the size of each piece handed over.
    private sealed class RecordingWriter : IBufferWriter<byte>
    {
        public ArrayBufferWriter<byte> Written { get; } = new();

        public List<int> Advances { get; } = [];

        public void Advance(int count)
        {
            Written.Advance(count);
            Advances.Add(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Written.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Written.GetSpan(sizeHint);
    }
}

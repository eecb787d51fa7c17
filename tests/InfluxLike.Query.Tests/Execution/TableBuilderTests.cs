using InfluxLike.Query.Data;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

public class TableBuilderTests
{
    // Random tables with constant, null-holding and plain columns, some columns missing from some tables.
    private static Table RandomTable(Random random)
    {
        int rows = random.Next(0, 40);
        var columns = new List<ColumnMeta>();
        var data = new List<ColumnData>();
        foreach (var (name, kind) in new[] { ("a", Kind.String), ("b", Kind.Float), ("c", Kind.Int), ("d", Kind.String) })
        {
            if (random.Next(4) == 0)
            {
                continue;
            }

            columns.Add(new ColumnMeta(name, kind));
            int shape = random.Next(3);
            if (shape == 0)
            {
                var value = random.Next(3) == 0 ? Value.Null : kind == Kind.String ? Value.String("k" + random.Next(3)) : Value.FromBits(kind, random.Next(100));
                data.Add(ColumnData.Constant(kind, value, rows));
                continue;
            }

            var builder = new ColumnBuilder(kind);
            for (int r = 0; r < rows; r++)
            {
                if (shape == 2 && random.Next(3) == 0)
                {
                    builder.AppendNull();
                }
                else
                {
                    builder.Append(kind == Kind.String ? Value.String("v" + random.Next(10)) : Value.FromBits(kind, random.Next(1000)));
                }
            }

            data.Add(builder.Build());
        }

        return new Table(GroupKey.Empty, [.. columns], [.. data], columns.Count == 0 ? 0 : rows);
    }

    [Fact]
    public void Appending_whole_tables_equals_appending_row_by_row()
    {
        var random = new Random(7);
        for (int round = 0; round < 300; round++)
        {
            var whole = new TableBuilder(GroupKey.Empty);
            var byRow = new TableBuilder(GroupKey.Empty);
            int tables = random.Next(1, 5);
            var all = new List<Table>();
            for (int t = 0; t < tables; t++)
            {
                var table = RandomTable(random);
                all.Add(table);
                whole.AppendTable(table, whole.MapColumns(table));
                var map = byRow.MapColumns(table);
                for (int r = 0; r < table.Rows; r++)
                {
                    byRow.AppendRow(table, r, map);
                }
            }

            Table b = byRow.Build();
            foreach (Table a in new[] { whole.Build(), TableBuilder.Concat(GroupKey.Empty, all) })
            {
                Assert.Equal(b.Rows, a.Rows);
                Assert.Equal(b.Columns, a.Columns);
                for (int c = 0; c < a.Columns.Length; c++)
                {
                    for (int r = 0; r < a.Rows; r++)
                    {
                        Assert.Equal(b.Data[c].Get(r), a.Data[c].Get(r));
                        Assert.Equal(b.Data[c].IsNull(r), a.Data[c].IsNull(r));
                    }
                }
            }
        }
    }

    [Fact]
    public void Concatenating_keeps_a_column_constant_only_where_every_table_holds_the_same_value()
    {
        Table Of(string host, double zero) => new(
            GroupKey.Empty,
            [new ColumnMeta("_measurement", Kind.String), new ColumnMeta("host", Kind.String), new ColumnMeta("z", Kind.Float)],
            [ColumnData.Constant(Kind.String, Value.String("cpu"), 2), ColumnData.Constant(Kind.String, Value.String(host), 2), ColumnData.Constant(Kind.Float, Value.Float(zero), 2)],
            2);

        var merged = TableBuilder.Concat(GroupKey.Empty, [Of("a", 0.0), Of("b", -0.0), Of("b", 0.0)]);
        Assert.True(merged.Data[0].IsConstant);
        Assert.Equal("cpu", merged.Data[0].Get(5).AsString);
        Assert.False(merged.Data[1].IsConstant);
        Assert.Equal("a a b b b b", string.Join(' ', merged.Data[1].Strings!));
        // 0 and -0 compare equal but print differently: not one value
        Assert.False(merged.Data[2].IsConstant);
        Assert.True(double.IsNegative(merged.Data[2].Get(2).AsFloat));
    }

    [Fact]
    public void A_constant_column_reads_the_same_as_its_materialised_arrays()
    {
        var column = ColumnData.Constant(Kind.Float, Value.Float(2.5), 3);
        Assert.True(column.IsConstant);
        Assert.Equal(Value.Float(2.5), column.Get(1));
        Assert.Equal([2.5, 2.5, 2.5], column.Bits!.Select(BitConverter.Int64BitsToDouble));
        var nulls = ColumnData.Constant(Kind.Int, Value.Null, 2);
        Assert.True(nulls.IsNull(0));
        Assert.Equal([true, true], nulls.Nulls!);
        Assert.All(ColumnData.Constant(Kind.String, Value.Null, 2).Strings!, Assert.Null);
    }
}

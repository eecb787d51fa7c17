using System.Text;
using InfluxLike.LineProtocol;

namespace InfluxLike.LineProtocol.Tests;

public class ReaderTests
{
    private static (List<Point> Points, List<LineProtocolError> Errors) Parse(string body, Precision precision = Precision.Nanoseconds, long defaultTime = 0) =>
        Point.ParseAll(Encoding.UTF8.GetBytes(body), new LineProtocolReaderOptions { Precision = precision, DefaultTimestamp = defaultTime });

    // Each bad input marks the column of its expected error with '¦' (removed before parsing).
    [Theory]
    [InlineData("¦,t=1 v=1", "expected a measurement name")]
    [InlineData("cpu,¦ v=1", "expected a tag key after ','")]
    [InlineData("cpu,host¦ v=1", "expected '=' after tag key \"host\"")]
    [InlineData("cpu,host=¦ v=1", "expected a value for tag key \"host\"")]
    [InlineData("cpu,host=a,¦host=b v=1", "duplicate tag key \"host\"")]
    [InlineData("cpu,b=1,a=2,¦b=3 v=1", "duplicate tag key \"b\"")]
    [InlineData("cpu v¦ 1", "expected '=' after field key \"v\"")]
    [InlineData("cpu v=¦", "invalid value for field \"v\"")]
    [InlineData("cpu v=¦x", "invalid value for field \"v\"")]
    [InlineData("cpu v=¦1.2.3", "invalid float value \"1.2.3\"")]
    [InlineData("cpu v=¦1e400", "out of range")]
    [InlineData("cpu v=¦9223372036854775808i", "out of range (int64")]
    [InlineData("cpu v=¦-1u", "invalid unsigned value")]
    [InlineData("cpu v=¦18446744073709551616u", "out of range (uint64")]
    [InlineData("cpu v=¦tru", "invalid boolean value")]
    [InlineData("cpu v=¦NaN", "invalid value for field")]
    [InlineData("cpu v=¦-Inf", "invalid float value")]
    [InlineData("cpu v=¦0x10", "invalid float value")]
    [InlineData("cpu v=1,¦", "expected a field key")]
    [InlineData("cpu v=1 ¦12a", "invalid timestamp")]
    [InlineData("cpu v=1 12 ¦13", "unexpected text after the timestamp")]
    [InlineData("cpu v=1 ¦9223372036854775807", "out of range")]
    [InlineData("cpu v=1 ¦-9223372036854775807", "out of range")]
    [InlineData("cpu v=¦1\t", "invalid float value")]
    [InlineData("¦\tcpu v=1", "expected a measurement name, found a tab")]
    [InlineData("# comment with a ¦\u0001 control character", "comment")]
    [InlineData("cpu v=1 1¦\rx", "unexpected text after the timestamp")]
    public void Reports_errors_with_line_and_column(string marked, string message)
    {
        int column = marked.IndexOf('¦') + 1;
        string input = marked.Replace("¦", "");
        var (points, errors) = Parse("ok v=1 1\n" + input + "\nok v=2 2\n");
        LineProtocolError e = Assert.Single(errors);
        Assert.Equal(2, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal([1L, 2L], points.Select(p => p.Timestamp));
    }

    [Fact]
    public void Keeps_every_good_line_and_reports_every_bad_one()
    {
        var (points, errors) = Parse("a v=1 1\nb v= 2\n\nc v=3 3\n# comment\nd,x v=4 4\ne v=5i 5");
        Assert.Equal(["a", "c", "e"], points.Select(p => p.Measurement));
        Assert.Equal([2L, 6L], errors.Select(e => e.Line));
        Assert.Equal("b v= 2", errors[0].LineText);
    }

    [Fact]
    public void Unclosed_string_runs_to_the_end_of_the_input()
    {
        var (points, errors) = Parse("a v=1 1\nb s=\"abc\nc v=2 2\n");
        Assert.Single(points);
        LineProtocolError e = Assert.Single(errors);
        Assert.Equal((2L, 5), (e.Line, e.Column));
        Assert.Contains("no closing quote", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Line_numbers_count_newlines_inside_string_values()
    {
        var (points, errors) = Parse("a s=\"one\ntwo\" 1\nb v=oops 2\n");
        Assert.Equal("one\ntwo", Assert.Single(points).Fields[0].Value.AsString);
        Assert.Equal(3, Assert.Single(errors).Line);
    }

    [Fact]
    public void Reads_crlf_comments_blank_lines_and_spaces()
    {
        var (points, errors) = Parse("  # leading comment\r\n\r\n   cpu v=1 10   \r\ncpu v=2 20\r\n\n  \ncpu v=3   \r\n");
        Assert.Empty(errors);
        Assert.Equal([10L, 20L, 0L], points.Select(p => p.Timestamp));
    }

    [Fact]
    public void Resolves_escapes_per_element()
    {
        var p = Parse("m\\,e\\ a\\=s,t\\ k\\,\\==t\\ v\\,\\= f\\ k\\==\"a\\\"b\\\\c\\nd\" 1").Points.Single();
        Assert.Equal("m,e a\\=s", p.Measurement);
        Assert.Equal(new KeyValuePair<string, string>("t k,=", "t v,="), p.Tags[0]);
        Assert.Equal("f k=", p.Fields[0].Key);
        Assert.Equal("a\"b\\c\\nd", p.Fields[0].Value.AsString);
    }

    [Fact]
    public void Reads_every_value_type_and_spelling()
    {
        var p = Parse("m a=1,b=-1.5e3,c=.5,d=1.,e=42i,f=-9223372036854775808i,g=18446744073709551615u,h=t,i=True,j=FALSE,k=\"\",l=0009i 1").Points.Single();
        var f = p.Fields.ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal(1.0, f["a"].AsFloat);
        Assert.Equal(-1500.0, f["b"].AsFloat);
        Assert.Equal(0.5, f["c"].AsFloat);
        Assert.Equal(1.0, f["d"].AsFloat);
        Assert.Equal(42L, f["e"].AsInteger);
        Assert.Equal(long.MinValue, f["f"].AsInteger);
        Assert.Equal(ulong.MaxValue, f["g"].AsUnsigned);
        Assert.True(f["h"].AsBoolean);
        Assert.True(f["i"].AsBoolean);
        Assert.False(f["j"].AsBoolean);
        Assert.Equal(FieldType.String, f["k"].Type);
        Assert.Equal("", f["k"].AsString);
        Assert.Equal(9L, f["l"].AsInteger);
    }

    [Fact]
    public void Repeated_field_keeps_the_last_value()
    {
        var p = Parse("m v=1,w=2,v=3 1").Points.Single();
        Assert.Equal(["v", "w"], p.Fields.Select(f => f.Key));
        Assert.Equal(3.0, p.Fields[0].Value.AsFloat);
    }

    [Theory]
    [InlineData(Precision.Nanoseconds, 5L)]
    [InlineData(Precision.Microseconds, 5_000L)]
    [InlineData(Precision.Milliseconds, 5_000_000L)]
    [InlineData(Precision.Seconds, 5_000_000_000L)]
    [InlineData(Precision.Minutes, 300_000_000_000L)]
    [InlineData(Precision.Hours, 18_000_000_000_000L)]
    public void Scales_timestamps_by_precision(Precision precision, long expected)
    {
        Assert.Equal(expected, Parse("m v=1 5", precision).Points.Single().Timestamp);
    }

    [Fact]
    public void Missing_timestamp_takes_the_default_truncated_to_the_precision()
    {
        Assert.Equal(1_234_000_000_000L, Parse("m v=1", Precision.Seconds, defaultTime: 1_234_567_890_123L).Points.Single().Timestamp);
        Assert.Equal(1_234_567_890_123L, Parse("m v=1\n", Precision.Nanoseconds, defaultTime: 1_234_567_890_123L).Points.Single().Timestamp);
    }

    [Fact]
    public void Timestamp_overflowing_with_precision_is_rejected()
    {
        var (points, errors) = Parse("m v=1 9223372037", Precision.Seconds);
        Assert.Empty(points);
        Assert.Contains("out of range", Assert.Single(errors).Message, StringComparison.Ordinal);
        Assert.Equal(9_223_372_036_000_000_000L, Parse("m v=1 9223372036", Precision.Seconds).Points.Single().Timestamp);
    }

    [Fact]
    public void Tags_come_out_sorted_by_unescaped_key()
    {
        var p = Parse("m,zeta=1,alpha=2,b\\ x=3,b=4,B=5 v=1 1").Points.Single();
        Assert.Equal(["B", "alpha", "b", "b x", "zeta"], p.Tags.Select(t => t.Key));
    }

    [Fact]
    public void Many_tags_and_fields_grow_the_buffers()
    {
        string tags = string.Join(",", Enumerable.Range(0, 100).Select(i => $"t{i:D3}={i}"));
        string fields = string.Join(",", Enumerable.Range(0, 100).Select(i => $"f{i}={i}i"));
        var p = Parse($"m,{tags} {fields} 1").Points.Single();
        Assert.Equal(100, p.Tags.Count);
        Assert.Equal(100, p.Fields.Count);
        Assert.Equal("t099", p.Tags[^1].Key);
    }

    [Fact]
    public void Raw_entry_is_the_line_without_its_ending()
    {
        var reader = new LineProtocolReader("a v=1 1\r\nb v=2\n"u8);
        Assert.True(reader.Read());
        Assert.Equal("a v=1 1", Encoding.UTF8.GetString(reader.RawEntry));
        Assert.True(reader.Read());
        Assert.Equal("b v=2", Encoding.UTF8.GetString(reader.RawEntry));
        Assert.False(reader.Read());
        reader.Dispose();
    }

    [Fact]
    public void Accessors_of_a_bad_line_throw()
    {
        var reader = new LineProtocolReader("a v=x"u8);
        Assert.True(reader.Read());
        Assert.NotNull(reader.Error);
        Assert.Equal(0, reader.FieldCount);
        bool threw = false;
        try
        {
            _ = reader.Measurement;
        }
        catch (InvalidOperationException)
        {
            threw = true;
        }

        Assert.True(threw);
        reader.Dispose();
    }

    [Fact]
    public void Point_parse_throws_with_position()
    {
        var ex = Assert.Throws<LineProtocolException>(() => Point.Parse("cpu v=1 x"));
        Assert.Equal(1, ex.Line);
        Assert.Equal(9, ex.Column);
    }

    [Fact]
    public void Persisted_field_type_numbers_never_change()
    {
        Assert.Equal(1, (int)FieldType.Float);
        Assert.Equal(2, (int)FieldType.Integer);
        Assert.Equal(3, (int)FieldType.Unsigned);
        Assert.Equal(4, (int)FieldType.Boolean);
        Assert.Equal(5, (int)FieldType.String);
    }
}

using InfluxLike.Query;
using InfluxLike.Query.Csv;

namespace InfluxLike.Fuzz;

/// <summary>Inputs the fuzz targets found, replayed (CsCheck seeds shrink to these).</summary>
public sealed class Findings
{
    // Annotated_csv_reader, seed 0FJ_rrvIcFn1: a header without records takes its group key from #default; a bad
    // time there escaped as a bare FormatException (a 500 where CSV comes from a client) instead of a QueryException.
    [Theory]
    [InlineData("#datatype,string,long,dateTime:RFC3339,double\n#group,false,false,true,false\n#default,_result,0,2018-05-2/T19:53:26Z,\n,result,table,_start,_value\n", "#default, column \"_start\"")]
    [InlineData("#datatype,string,long,long\n#group,false,false,true\n#default,_result,0,x\n,result,table,n\n", "#default, column \"n\"")]
    public void A_bad_default_cell_is_a_csv_error_naming_the_column(string csv, string message) =>
        Assert.Contains(message, Assert.Throws<QueryException>(() => AnnotatedCsvReader.Read(csv)).Message, StringComparison.Ordinal);

    // AFL++ (scripts/fuzz.sh csv), crash id:000000 after 3 346 executions, minimised: a long or unsignedLong cell out of
    // range escaped as a bare OverflowException instead of a QueryException naming line and column.
    [Theory]
    [InlineData("#datatype,string,long,long\n#group,false,false,false\n#default,_result,,\n,result,table,n\n,,0,111111111111111111111111115\n", "line 5, column \"n\"")]
    [InlineData("#datatype,string,long,unsignedLong\n#group,false,false,false\n#default,_result,,\n,result,table,n\n,,0,18446744073709551616\n", "line 5, column \"n\"")]
    [InlineData("#datatype,string,long,long\n#group,false,false,true\n#default,_result,0,-9223372036854775809\n,result,table,n\n", "#default, column \"n\"")]
    public void An_integer_cell_out_of_range_is_a_csv_error_naming_the_column(string csv, string message) =>
        Assert.Contains(message, Assert.Throws<QueryException>(() => AnnotatedCsvReader.Read(csv)).Message, StringComparison.Ordinal);

    [Fact]
    public void A_default_row_shorter_than_the_header_reads()
    {
        var tables = AnnotatedCsvReader.Read("#datatype,string,long,string\n#group,false,false,true\n#default,_result\n,result,table,t\n,,0,a\n");
        Assert.Equal("a", Assert.Single(tables).Table.Column("t")!.Get(0).AsString);
    }
}

using System.Text.RegularExpressions;
using InfluxLike.Storage.Tsm;
using InfluxLike.Testing;

namespace InfluxLike.Storage.Tests;

/// <summary>The drawing in docs/format/tsm.md must match the code (tsm1's drew a 4-byte footer and wrote 8).</summary>
public partial class TsmFormatDocTests
{
    [Fact]
    public void Drawing_matches_the_constants()
    {
        string doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "InfluxLike.Storage", "docs", "format", "tsm.md"));
        Assert.Equal(TsmFormat.HeaderLength, Size(doc, "header"));
        Assert.Equal(TsmFormat.FooterLength, Size(doc, "footer"));
        Assert.Equal(TsmFormat.IndexEntryLength, Size(doc, "index entry"));
        Assert.Contains($"version {TsmFormat.Version}", doc, StringComparison.Ordinal);
        Assert.Contains($"0x{TsmFormat.Magic:X8}", doc, StringComparison.Ordinal);
    }

    private static int Size(string doc, string part)
    {
        Match m = Regex.Match(doc, $@"^\| {Regex.Escape(part)} \| (\d+) bytes", RegexOptions.Multiline);
        Assert.True(m.Success, $"docs/format/tsm.md has no row for \"{part}\"");
        return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System.Globalization;
using System.Text;
using CsCheck;

namespace InfluxLike.LineProtocol.Tests;

/// <summary>Digits of unsigned integers, as chars and as UTF-8 bytes, against .NET's own formatting.</summary>
public sealed class DecimalDigitsTests
{
    // Small, eight- and sixteen-digit boundaries, and anything.
    private static readonly Gen<ulong> Values = Gen.OneOf(
        Gen.ULong,
        Gen.ULong[0, 1000],
        Gen.Int[0, 19].Select(Gen.ULong[0, 50], (p, d) => (ulong)Math.Pow(10, p) - 25 + d));

    [Fact]
    public void Writes_the_last_digits_zero_padded_for_every_length()
    {
        Gen.Select(Values, Gen.Int[1, 20]).Sample((value, length) =>
        {
            string all = value.ToString("D20", CultureInfo.InvariantCulture);
            string expected = all[^length..];
            Span<char> chars = stackalloc char[length];
            Span<byte> bytes = stackalloc byte[length];
            DecimalDigits.Write(chars, value);
            DecimalDigits.Write(bytes, value);
            Assert.Equal(expected, new string(chars));
            Assert.Equal(expected, Encoding.ASCII.GetString(bytes));
        }, iter: 200_000);
    }

    [Fact]
    public void Length_is_the_number_of_digits()
    {
        Values.Sample(value => Assert.Equal(value.ToString(CultureInfo.InvariantCulture).Length, DecimalDigits.Length(value)), iter: 100_000);
    }

    [Fact]
    public void Pairs_are_two_digits_zero_padded()
    {
        Span<char> chars = stackalloc char[2];
        Span<byte> bytes = stackalloc byte[2];
        for (int v = 0; v < 100; v++)
        {
            DecimalDigits.WritePair(chars, v);
            DecimalDigits.WritePair(bytes, v);
            Assert.Equal(v.ToString("D2", CultureInfo.InvariantCulture), new string(chars));
            Assert.Equal(v.ToString("D2", CultureInfo.InvariantCulture), Encoding.ASCII.GetString(bytes));
        }
    }
}

using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using InfluxLike.LineProtocol;
using InfluxLike.Query.Runtime;

namespace InfluxLike.Query.Values;

/// <summary>The kinds of value a script computes with; the first six are also the column types of a table.</summary>
public enum Kind : byte
{
    Null,
    Bool,
    Int,
    UInt,
    Float,
    String,
    Time,
    Duration,
    Regex,
    Array,
    Record,
    Dictionary,
    Function,
    Stream,
}

/// <summary>
/// One script value, as a small struct: scalars live in <see cref="Bits"/> (floats as their bit pattern, times
/// as Unix nanoseconds, durations as nanoseconds with months, if any, in <see cref="Ref"/>), everything else is
/// an object in <see cref="Ref"/>. Row functions pass these around without allocating for scalars.
/// </summary>
public readonly struct Value : IEquatable<Value>
{
    public static readonly Value Null;

    private Value(Kind kind, long bits, object? reference)
    {
        Kind = kind;
        Bits = bits;
        Ref = reference;
    }

    public Kind Kind { get; }

    public long Bits { get; }

    public object? Ref { get; }

    public bool IsNull => Kind == Kind.Null;

    public static Value Bool(bool value) => new(Kind.Bool, value ? 1 : 0, null);

    public static Value Int(long value) => new(Kind.Int, value, null);

    public static Value UInt(ulong value) => new(Kind.UInt, (long)value, null);

    public static Value Float(double value) => new(Kind.Float, BitConverter.DoubleToInt64Bits(value), null);

    public static Value Time(long unixNanoseconds) => new(Kind.Time, unixNanoseconds, null);

    public static Value Duration(FluxDuration d) => new(Kind.Duration, d.Nanoseconds, d.Months == 0 ? null : d.Months);

    public static Value String(string value) => new(Kind.String, 0, value);

    public static Value Regex(Regex value) => new(Kind.Regex, 0, value);

    public static Value Array(ArrayValue value) => new(Kind.Array, 0, value);

    public static Value Record(RecordValue value) => new(Kind.Record, 0, value);

    public static Value Dictionary(DictionaryValue value) => new(Kind.Dictionary, 0, value);

    public static Value Function(FunctionValue value) => new(Kind.Function, 0, value);

    public static Value Stream(TableStream value) => new(Kind.Stream, 0, value);

    /// <summary>A column cell: <paramref name="bits"/> interpreted by <paramref name="kind"/> (strings come separately).</summary>
    public static Value FromBits(Kind kind, long bits) => new(kind, bits, null);

    public bool AsBool => Bits != 0;

    public long AsInt => Bits;

    public ulong AsUInt => (ulong)Bits;

    public double AsFloat => BitConverter.Int64BitsToDouble(Bits);

    public long AsTime => Bits;

    public string AsString => (string)Ref!;

    public Regex AsRegex => (Regex)Ref!;

    public ArrayValue AsArray => (ArrayValue)Ref!;

    public RecordValue AsRecord => (RecordValue)Ref!;

    public FunctionValue AsFunction => (FunctionValue)Ref!;

    public TableStream AsStream => (TableStream)Ref!;

    public DictionaryValue AsDictionary => (DictionaryValue)Ref!;

    public FluxDuration AsDuration => new(Ref is long months ? months : 0, Bits);

    public static string KindName(Kind kind) => kind switch
    {
        Kind.Null => "null",
        Kind.Bool => "bool",
        Kind.Int => "int",
        Kind.UInt => "uint",
        Kind.Float => "float",
        Kind.String => "string",
        Kind.Time => "time",
        Kind.Duration => "duration",
        Kind.Regex => "regexp",
        Kind.Array => "array",
        Kind.Record => "record",
        Kind.Dictionary => "dictionary",
        Kind.Function => "function",
        _ => "stream of tables",
    };

    public bool Equals(Value other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }

        return Kind switch
        {
            Kind.Null => true,
            Kind.String => string.Equals(AsString, other.AsString, StringComparison.Ordinal),
            Kind.Float => AsFloat.Equals(other.AsFloat),
            Kind.Duration => AsDuration == other.AsDuration,
            Kind.Bool or Kind.Int or Kind.UInt or Kind.Time => Bits == other.Bits,
            _ => ReferenceEquals(Ref, other.Ref),
        };
    }

    public override bool Equals(object? obj) => obj is Value v && Equals(v);

    public override int GetHashCode() => Kind switch
    {
        Kind.String => HashCode.Combine(Kind, AsString.GetHashCode(StringComparison.Ordinal)),
        Kind.Null => 0,
        Kind.Float => HashCode.Combine(Kind, AsFloat.GetHashCode()),
        Kind.Duration => HashCode.Combine(Kind, AsDuration),
        _ => HashCode.Combine(Kind, Bits, Ref is null or string ? 0 : RuntimeHelpers.GetHashCode(Ref)),
    };

    public static bool operator ==(Value left, Value right) => left.Equals(right);

    public static bool operator !=(Value left, Value right) => !left.Equals(right);

    /// <summary>Total order within one kind, null first: what sort and group ordering use.</summary>
    public static int Compare(Value a, Value b)
    {
        if (a.IsNull || b.IsNull)
        {
            return (a.IsNull ? 0 : 1) - (b.IsNull ? 0 : 1);
        }

        if (a.Kind != b.Kind)
        {
            if (IsNumeric(a.Kind) && IsNumeric(b.Kind))
            {
                return ToDouble(a).CompareTo(ToDouble(b));
            }

            return a.Kind.CompareTo(b.Kind);
        }

        return a.Kind switch
        {
            Kind.String => string.CompareOrdinal(a.AsString, b.AsString),
            Kind.Float => a.AsFloat.CompareTo(b.AsFloat),
            Kind.UInt => a.AsUInt.CompareTo(b.AsUInt),
            Kind.Duration => a.AsDuration.CompareTo(b.AsDuration),
            _ => a.Bits.CompareTo(b.Bits),
        };
    }

    public static bool IsNumeric(Kind kind) => kind is Kind.Int or Kind.UInt or Kind.Float;

    public static double ToDouble(Value v) => v.Kind switch
    {
        Kind.Float => v.AsFloat,
        Kind.UInt => v.AsUInt,
        _ => v.Bits,
    };

    public override string ToString() => Kind switch
    {
        Kind.Null => "null",
        Kind.Bool => AsBool ? "true" : "false",
        Kind.Int => AsInt.ToString(CultureInfo.InvariantCulture),
        Kind.UInt => AsUInt.ToString(CultureInfo.InvariantCulture),
        Kind.Float => Formats.Float(AsFloat),
        Kind.String => AsString,
        Kind.Time => Formats.Time(AsTime),
        Kind.Duration => AsDuration.ToString(),
        Kind.Regex => AsRegex.ToString(),
        _ => Ref?.ToString() ?? "",
    };
}

/// <summary>A Flux duration: calendar months plus nanoseconds (<c>1mo2d</c> is 1 month and 2×24 h).</summary>
public readonly record struct FluxDuration(long Months, long Nanoseconds) : IComparable<FluxDuration>
{
    public static FluxDuration FromNanoseconds(long ns) => new(0, ns);

    public bool IsNegative => Months < 0 || (Months == 0 && Nanoseconds < 0);

    public bool IsZero => Months == 0 && Nanoseconds == 0;

    /// <summary>Rough length, months as 30 days: for comparisons only.</summary>
    public double ApproximateNanoseconds => (Months * 30.0 * 86_400e9) + Nanoseconds;

    public int CompareTo(FluxDuration other) => ApproximateNanoseconds.CompareTo(other.ApproximateNanoseconds);

    public FluxDuration Negate() => new(-Months, -Nanoseconds);

    /// <summary><paramref name="time"/> plus this duration, months added on the UTC calendar (day clamped to the month's length).</summary>
    public long AddTo(long time)
    {
        if (Months != 0)
        {
            var dt = DateTime.UnixEpoch.AddTicks(Math.DivRem(time, 100, out long rem));
            dt = dt.AddMonths(checked((int)Months));
            time = ((dt - DateTime.UnixEpoch).Ticks * 100) + rem;
        }

        return checked(time + Nanoseconds);
    }

    public override string ToString() => Formats.Duration(this);
}

/// <summary>Text forms shared by the CSV writer, string() and error messages.</summary>
public static class Formats
{
    /// <summary>Go's <c>FormatFloat(v, 'f', -1, 64)</c>: shortest round-trip digits, never an exponent.</summary>
    public static string Float(double v)
    {
        if (double.IsNaN(v))
        {
            return "NaN";
        }

        if (double.IsInfinity(v))
        {
            return v > 0 ? "+Inf" : "-Inf";
        }

        Span<char> text = stackalloc char[ShortestFloat.MaxFixedLength];
        return new string(text[..ShortestFloat.FormatFixed(v, text)]);
    }

    /// <summary>RFC 3339 with as many fractional digits as needed (Go's RFC3339Nano), always UTC "Z".</summary>
    public static string Time(long unixNanoseconds)
    {
        Span<char> text = stackalloc char[MaxTimeLength];
        return new string(text[..FormatTime(unixNanoseconds, text)]);
    }

    /// <summary>The longest text <see cref="FormatTime"/> writes: <c>yyyy-MM-ddTHH:mm:ss.fffffffffZ</c>.</summary>
    public const int MaxTimeLength = 30;

    /// <summary>
    /// <see cref="Time"/> into <paramref name="destination"/> (at least <see cref="MaxTimeLength"/> long), as chars or
    /// as UTF-8 bytes; the length written.
    /// </summary>
    public static int FormatTime<TChar>(long unixNanoseconds, Span<TChar> destination)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        long days = SplitTime(unixNanoseconds, out int secondOfDay, out int nanos);
        WriteDate(destination, days);
        return WriteClock(destination, secondOfDay, nanos);
    }

    /// <summary>
    /// RFC 3339 text of times (as <see cref="Time"/>) that remembers the last day's date: a table's rows are mostly on
    /// one day, so most times need only their clock written.
    /// </summary>
    public struct TimeText
    {
        private long _day;
        private byte[]? _date; // "yyyy-MM-ddT" of _day

        /// <summary>
        /// <see cref="Time"/> into <paramref name="destination"/> (at least <see cref="MaxTimeLength"/> long), as chars
        /// or as UTF-8 bytes; the length written.
        /// </summary>
        public int Format<TChar>(long unixNanoseconds, Span<TChar> destination)
            where TChar : unmanaged, IBinaryInteger<TChar>
        {
            long days = SplitTime(unixNanoseconds, out int secondOfDay, out int nanos);
            if (_date is null || days != _day)
            {
                _date ??= new byte[11];
                WriteDate<byte>(_date, days);
                _day = days;
            }

            if (typeof(TChar) == typeof(byte))
            {
                _date.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<TChar, byte>(destination));
            }
            else
            {
                for (int i = 0; i < 11; i++)
                {
                    destination[i] = TChar.CreateTruncating(_date[i]);
                }
            }

            return WriteClock(destination, secondOfDay, nanos);
        }
    }

    // Days since 1970-01-01, the second of that day and the nanoseconds of that second.
    private static long SplitTime(long unixNanoseconds, out int secondOfDay, out int nanos)
    {
        long seconds = Math.DivRem(unixNanoseconds, 1_000_000_000, out long ns);
        if (ns < 0)
        {
            ns += 1_000_000_000;
            seconds--;
        }

        long days = Math.DivRem(seconds, 86_400, out long second);
        if (second < 0)
        {
            second += 86_400;
            days--;
        }

        secondOfDay = (int)second;
        nanos = (int)ns;
        return days;
    }

    // "yyyy-MM-ddT" into the first 11 chars (H. Hinnant's days_from_civil, inverted).
    private static void WriteDate<TChar>(Span<TChar> text, long days)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        long z = days + 719_468;
        long era = (z >= 0 ? z : z - 146_096) / 146_097;
        long dayOfEra = z - (era * 146_097);
        long yearOfEra = (dayOfEra - (dayOfEra / 1460) + (dayOfEra / 36_524) - (dayOfEra / 146_096)) / 365;
        long dayOfYear = dayOfEra - ((365 * yearOfEra) + (yearOfEra / 4) - (yearOfEra / 100));
        long mp = ((5 * dayOfYear) + 2) / 153;
        int day = (int)(dayOfYear - (((153 * mp) + 2) / 5) + 1);
        int month = (int)(mp < 10 ? mp + 3 : mp - 9);
        int year = (int)(yearOfEra + (era * 400) + (month <= 2 ? 1 : 0));
        DecimalDigits.Write(text[..4], (ulong)year);
        text[4] = TChar.CreateTruncating('-');
        DecimalDigits.WritePair(text.Slice(5, 2), month);
        text[7] = TChar.CreateTruncating('-');
        DecimalDigits.WritePair(text.Slice(8, 2), day);
        text[10] = TChar.CreateTruncating('T');
    }

    // "HH:mm:ss", the fraction without trailing zeros, and "Z" from char 11 on; the whole length.
    private static int WriteClock<TChar>(Span<TChar> destination, int secondOfDay, int nanos)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        TChar colon = TChar.CreateTruncating(':');
        int minuteOfDay = secondOfDay / 60;
        DecimalDigits.WritePair(destination.Slice(11, 2), minuteOfDay / 60);
        destination[13] = colon;
        DecimalDigits.WritePair(destination.Slice(14, 2), minuteOfDay % 60);
        destination[16] = colon;
        DecimalDigits.WritePair(destination.Slice(17, 2), secondOfDay - (minuteOfDay * 60));
        int length = 19;
        if (nanos != 0)
        {
            destination[19] = TChar.CreateTruncating('.');
            DecimalDigits.Write(destination.Slice(20, 9), (ulong)nanos);
            length = 29;
            TChar zero = TChar.CreateTruncating('0');
            while (destination[length - 1] == zero)
            {
                length--;
            }
        }

        destination[length] = TChar.CreateTruncating('Z');
        return length + 1;
    }

    /// <summary>
    /// <see cref="Float"/> into <paramref name="destination"/>, as chars or as UTF-8 bytes, when it fits (32 hold any
    /// value whose magnitude is between 1e-9 and 1e21); false otherwise, and the caller uses <see cref="Float"/>.
    /// </summary>
    public static bool TryFormatFloat<TChar>(double v, Span<TChar> destination, out int written)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        written = double.IsFinite(v) ? ShortestFloat.FormatFixed(v, destination) : -1;
        if (written >= 0)
        {
            return true;
        }

        written = 0;
        return false;
    }

    public static string Duration(FluxDuration d)
    {
        if (d.IsZero)
        {
            return "0s";
        }

        var sb = new System.Text.StringBuilder();
        long months = d.Months;
        long ns = d.Nanoseconds;
        if (months < 0 || (months == 0 && ns < 0))
        {
            sb.Append('-');
            months = -months;
            ns = -ns;
        }

        if (months / 12 > 0)
        {
            sb.Append(months / 12).Append('y');
        }

        if (months % 12 > 0)
        {
            sb.Append(months % 12).Append("mo");
        }

        ReadOnlySpan<(long Size, string Unit)> units =
            [(7 * 86_400_000_000_000, "w"), (86_400_000_000_000, "d"), (3_600_000_000_000, "h"), (60_000_000_000, "m"), (1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us"), (1, "ns")];
        foreach (var (size, unit) in units)
        {
            if (ns >= size)
            {
                sb.Append(ns / size).Append(unit);
                ns %= size;
            }
        }

        return sb.ToString();
    }
}

using System.Globalization;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Runtime;

/// <summary>float(v:), int(v:), uint(v:), string(v:), bool(v:), time(v:): Flux's conversions, null in, null out.</summary>
internal static class Conversions
{
    public static IEnumerable<Builtin> All =>
    [
        Make("float", v => v.Kind switch
        {
            Kind.Float => v,
            Kind.Int => Value.Float(v.AsInt),
            Kind.UInt => Value.Float(v.AsUInt),
            Kind.Bool => Value.Float(v.AsBool ? 1 : 0),
            Kind.String => Value.Float(ParseFloat(v.AsString)),
            _ => throw new FormatException($"cannot convert {Value.KindName(v.Kind)} to float"),
        }),
        Make("int", v => v.Kind switch
        {
            Kind.Int => v,
            Kind.Float => Value.Int(double.IsNaN(v.AsFloat) ? 0 : (long)Math.Truncate(v.AsFloat)),
            Kind.UInt => Value.Int((long)v.AsUInt),
            Kind.Bool => Value.Int(v.AsBool ? 1 : 0),
            Kind.Time => Value.Int(v.AsTime),
            Kind.Duration => Value.Int(v.AsDuration.Nanoseconds),
            Kind.String => Value.Int(long.Parse(v.AsString, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)),
            _ => throw new FormatException($"cannot convert {Value.KindName(v.Kind)} to int"),
        }),
        Make("uint", v => v.Kind switch
        {
            Kind.UInt => v,
            Kind.Float => Value.UInt((ulong)Math.Truncate(v.AsFloat)),
            Kind.Int => Value.UInt((ulong)v.AsInt),
            Kind.Bool => Value.UInt(v.AsBool ? 1UL : 0),
            Kind.Time => Value.UInt((ulong)v.AsTime),
            Kind.String => Value.UInt(ulong.Parse(v.AsString, NumberStyles.None, CultureInfo.InvariantCulture)),
            _ => throw new FormatException($"cannot convert {Value.KindName(v.Kind)} to uint"),
        }),
        Make("string", v => v.Kind == Kind.String ? v : Value.String(v.ToString())),
        Make("bool", v => v.Kind switch
        {
            Kind.Bool => v,
            Kind.Int => Value.Bool(v.AsInt != 0),
            Kind.UInt => Value.Bool(v.AsUInt != 0),
            Kind.Float => Value.Bool(v.AsFloat != 0),
            Kind.String => Value.Bool(v.AsString switch
            {
                "true" => true,
                "false" => false,
                _ => throw new FormatException($"cannot convert string \"{v.AsString}\" to bool"),
            }),
            _ => throw new FormatException($"cannot convert {Value.KindName(v.Kind)} to bool"),
        }),
        Make("time", v => v.Kind switch
        {
            Kind.Time => v,
            Kind.Int => Value.Time(v.AsInt),
            Kind.UInt => Value.Time((long)v.AsUInt),
            Kind.String => Value.Time(Csv.AnnotatedCsvReader.ParseTime(v.AsString)),
            _ => throw new FormatException($"cannot convert {Value.KindName(v.Kind)} to time"),
        }),
        Make("duration", v => v.Kind switch
        {
            Kind.Duration => v,
            Kind.Int => Value.Duration(FluxDuration.FromNanoseconds(v.AsInt)),
            Kind.UInt => Value.Duration(FluxDuration.FromNanoseconds((long)v.AsUInt)),
            _ => throw new FormatException($"cannot convert {Value.KindName(v.Kind)} to duration"),
        }),
    ];

    private static Builtin Make(string name, Func<Value, Value> convert) =>
        new(name, null, a =>
        {
            var v = a.Get("v");
            return v.IsNull ? v : convert(v);
        });

    private static double ParseFloat(string s) => s switch
    {
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}

using System.Collections.Frozen;

namespace InfluxLike.Query.Semantics;

/// <summary>Coarse static types: enough to reject a literal of the wrong kind before running anything.</summary>
internal enum ValueKind
{
    Any,
    Time,
    Duration,
    Int,
    Float,
    String,
    Bool,
    Function,
    Array,
    Record,
}

internal sealed record ParameterSignature(string Name, bool Required, bool IsPipe, ValueKind Kind);

internal sealed record FunctionSignature(string Name, IReadOnlyList<ParameterSignature> Parameters)
{
    public ParameterSignature? Pipe { get; } = Parameters.FirstOrDefault(p => p.IsPipe);

    public ParameterSignature? Find(string name)
    {
        foreach (var parameter in Parameters)
        {
            if (parameter.Name == name)
            {
                return parameter;
            }
        }

        return null;
    }
}

/// <summary>
/// Signatures of the built-in functions the checker knows: the Flux universe functions our engine
/// implements and the packages the conformance scripts import. Written as Flux-like signatures,
/// "range(tables=<-, start!: time, stop: time)", where '!' marks a required parameter.
/// A name missing here is reported as unknown, so a new built-in needs a line here; once Functions/
/// has a registry of implemented functions, this catalog should be generated from it.
/// </summary>
internal static class Builtins
{
    private static readonly string[] Universe =
    [
        "range(tables=<-, start!: time, stop: time)",
        "filter(tables=<-, fn!: fn, onEmpty: string)",
        "map(tables=<-, fn!: fn, mergeKey: bool)",
        "group(tables=<-, columns: array, mode: string)",
        "keep(tables=<-, columns: array, fn: fn)",
        "drop(tables=<-, columns: array, fn: fn)",
        "rename(tables=<-, columns: record, fn: fn)",
        "aggregateWindow(tables=<-, every!: duration, fn!: fn, period: duration, offset: duration, column: string, timeSrc: string, timeDst: string, createEmpty: bool, location: record)",
        "window(tables=<-, every: duration, period: duration, offset: duration, location: record, timeColumn: string, startColumn: string, stopColumn: string, createEmpty: bool)",
        "sort(tables=<-, columns: array, desc: bool)",
        "fill(tables=<-, column: string, value: any, usePrevious: bool)",
        "pivot(tables=<-, rowKey!: array, columnKey!: array, valueColumn!: string)",
        "limit(tables=<-, n!: int, offset: int)",
        "tail(tables=<-, n!: int, offset: int)",
        "join(tables=<-, on: array, method: string)",
        "union(tables!: array)",
        "count(tables=<-, column: string)",
        "sum(tables=<-, column: string)",
        "mean(tables=<-, column: string)",
        "min(tables=<-, column: string)",
        "max(tables=<-, column: string)",
        "first(tables=<-, column: string)",
        "last(tables=<-, column: string)",
        "spread(tables=<-, column: string)",
        "unique(tables=<-, column: string)",
        "distinct(tables=<-, column: string)",
        "stddev(tables=<-, column: string, mode: string)",
        "median(tables=<-, column: string, method: string, compression: float)",
        "quantile(tables=<-, column: string, q!: float, method: string, compression: float)",
        "top(tables=<-, n!: int, columns: array)",
        "bottom(tables=<-, n!: int, columns: array)",
        "derivative(tables=<-, unit: duration, nonNegative: bool, columns: array, timeColumn: string, initialZero: bool)",
        "difference(tables=<-, nonNegative: bool, columns: array, keepFirst: bool, initialZero: bool)",
        "duplicate(tables=<-, column!: string, as!: string)",
        "cumulativeSum(tables=<-, columns: array)",
        "movingAverage(tables=<-, n!: int)",
        "timeShift(tables=<-, duration!: duration, columns: array)",
        "set(tables=<-, key!: string, value!: string)",
        "increase(tables=<-, columns: array)",
        "histogram(tables=<-, column: string, upperBoundColumn: string, countColumn: string, bins!: array, normalize: bool)",
        "elapsed(tables=<-, unit: duration, timeColumn: string, columnName: string)",
        "truncateTimeColumn(tables=<-, unit!: duration, timeColumn: string)",
        "yield(tables=<-, name: string)",
        "float(v!: any)",
        "int(v!: any)",
        "uint(v!: any)",
        "string(v!: any)",
        "bool(v!: any)",
        "time(v!: any)",
        "duration(v!: any)",
        "now()",
        "today()",
        "from(bucket: string, bucketID: string, host: string, org: string, orgID: string, token: string)",
        "to(tables=<-, bucket: string, bucketID: string, org: string, orgID: string, host: string, token: string, timeColumn: string, tagColumns: array, fieldFn: fn)",
        "buckets(host: string, org: string, orgID: string, token: string)",
        "reduce(tables=<-, fn!: fn, identity!: record)",
        "integral(tables=<-, unit: duration, column: string, timeColumn: string, interpolate: string)",
        "mode(tables=<-, column: string)",
        "histogramQuantile(tables=<-, quantile!: float, countColumn: string, upperBoundColumn: string, valueColumn: string, minValue: float, onNonmonotonic: string)",
        "skew(tables=<-, column: string)",
        "sample(tables=<-, n!: int, pos: int, column: string)",
        "stateCount(tables=<-, fn!: fn, column: string)",
        "stateDuration(tables=<-, fn!: fn, column: string, timeColumn: string, unit: duration)",
        "columns(tables=<-, column: string)",
        "keys(tables=<-, column: string)",
        "keyValues(tables=<-, keyColumns: array, fn: fn)",
        "exponentialMovingAverage(tables=<-, n!: int)",
        "doubleEMA(tables=<-, n!: int)",
        "tripleEMA(tables=<-, n!: int)",
        "timedMovingAverage(tables=<-, every!: duration, period!: duration, column: string)",
        "relativeStrengthIndex(tables=<-, n!: int, columns: array)",
        "chandeMomentumOscillator(tables=<-, n!: int, columns: array)",
        "kaufmansAMA(tables=<-, n!: int, column: string)",
        "holtWinters(tables=<-, n!: int, interval!: duration, seasonality: int, withFit: bool, column: string, timeColumn: string)",
        "hourSelection(tables=<-, start!: int, stop!: int, timeColumn: string)",
        "highestMax(tables=<-, n!: int, column: string, groupColumns: array)",
        "highestAverage(tables=<-, n!: int, column: string, groupColumns: array)",
        "highestCurrent(tables=<-, n!: int, column: string, groupColumns: array)",
        "lowestMin(tables=<-, n!: int, column: string, groupColumns: array)",
        "lowestAverage(tables=<-, n!: int, column: string, groupColumns: array)",
        "lowestCurrent(tables=<-, n!: int, column: string, groupColumns: array)",
        "covariance(tables=<-, columns!: array, pearsonr: bool, valueDst: string)",
        "cov(x!: any, y!: any, on!: array, pearsonr: bool)",
        "pearsonr(x!: any, y!: any, on!: array)",
        "tableFind(tables=<-, fn!: fn)",
        "getColumn(table=<-, column!: string)",
        "getRecord(table=<-, idx!: int)",
        "findColumn(tables=<-, fn!: fn, column!: string)",
        "findRecord(tables=<-, fn!: fn, idx!: int)",
        "linearBins(start!: float, width!: float, count!: int, infinity: bool)",
        "logarithmicBins(start!: float, factor!: float, count!: int, infinity: bool)",
        "length(arr!: array)",
        "contains(value!: any, set!: array)",
        "display(v!: any)",
        "die(msg!: string)",
        "toString(tables=<-)",
        "toInt(tables=<-)",
        "toUInt(tables=<-)",
        "toFloat(tables=<-)",
        "toBool(tables=<-)",
        "toTime(tables=<-)",
    ];

    // influxdata/influxdb/schema and its v1 names.
    private static readonly string[] SchemaSignatures =
    [
        "measurements(bucket!: string, start: any, stop: any)",
        "tagKeys(bucket!: string, predicate: fn, start: any, stop: any)",
        "tagValues(bucket!: string, tag!: string, predicate: fn, start: any, stop: any)",
        "fieldKeys(bucket!: string, predicate: fn, start: any, stop: any)",
        "measurementTagKeys(bucket!: string, measurement!: string, start: any, stop: any)",
        "measurementTagValues(bucket!: string, measurement!: string, tag!: string, start: any, stop: any)",
        "measurementFieldKeys(bucket!: string, measurement!: string, start: any, stop: any)",
    ];

    private static readonly Dictionary<string, string[]> PackageSources = new()
    {
        ["strings"] =
        [
            "toUpper(v!: string)", "toLower(v!: string)", "trimSpace(v!: string)", "strlen(v!: string)",
            "hasPrefix(v!: string, prefix!: string)", "hasSuffix(v!: string, suffix!: string)",
            "containsStr(v!: string, substr!: string)", "replaceAll(v!: string, t!: string, u!: string)",
            "split(v!: string, t!: string)", "joinStr(arr!: array, v!: string)", "substring(v!: string, start!: int, end!: int)",
            "title(v!: string)", "toTitle(v!: string)", "trim(v!: string, cutset!: string)", "trimLeft(v!: string, cutset!: string)",
            "trimRight(v!: string, cutset!: string)", "trimPrefix(v!: string, prefix!: string)", "trimSuffix(v!: string, suffix!: string)",
            "index(v!: string, substr!: string)", "lastIndex(v!: string, substr!: string)", "indexAny(v!: string, chars!: string)",
            "lastIndexAny(v!: string, chars!: string)", "countStr(v!: string, substr!: string)", "repeat(v!: string, i!: int)",
            "replace(v!: string, t!: string, u!: string, i!: int)", "splitN(v!: string, t!: string, i!: int)", "equalFold(v!: string, t!: string)",
            "compare(v!: string, t!: string)", "isDigit(v!: string)", "isLetter(v!: string)", "isLower(v!: string)", "isUpper(v!: string)",
        ],
        ["regexp"] =
        [
            "compile(v!: string)", "matchRegexpString(r!: any, v!: string)", "replaceAllString(r!: any, v!: string, t!: string)",
            "quoteMeta(v!: string)", "findString(r!: any, v!: string)", "findStringIndex(r!: any, v!: string)", "getString(r!: any)",
            "splitRegexp(r!: any, v!: string, i!: int)",
        ],
        ["math"] =
        [
            "pow(x!: float, y!: float)", "sqrt(x!: float)", "abs(x!: float)", "floor(x!: float)", "ceil(x!: float)",
            "round(x!: float)", "mInf(sign!: int)", "NaN()", "mod(x!: float, y!: float)", "remainder(x!: float, y!: float)",
            "log(x!: float)", "log10(x!: float)", "log2(x!: float)", "log1p(x!: float)", "exp(x!: float)", "exp2(x!: float)",
            "sin(x!: float)", "cos(x!: float)", "tan(x!: float)", "asin(x!: float)", "acos(x!: float)", "atan(x!: float)",
            "atan2(y!: float, x!: float)", "hypot(p!: float, q!: float)", "cbrt(x!: float)", "trunc(x!: float)", "roundtoeven(x!: float)",
            "mMax(x!: float, y!: float)", "mMin(x!: float, y!: float)", "signbit(x!: float)", "isInf(f!: float, sign!: int)", "isNaN(f!: float)",
        ],
        ["date"] =
        [
            "second(t!: any)", "minute(t!: any)", "hour(t!: any)", "weekDay(t!: any)", "monthDay(t!: any)", "yearDay(t!: any)",
            "month(t!: any)", "year(t!: any)", "week(t!: any)", "quarter(t!: any)", "millisecond(t!: any)", "microsecond(t!: any)",
            "nanosecond(t!: any)", "truncate(t!: any, unit!: duration, location: record)", "add(d!: duration, to!: any, location: record)",
            "sub(d!: duration, from!: any, location: record)",
        ],
        ["types"] = ["isType(v!: any, type!: string)", "isNumeric(v!: any)"],
        ["experimental/aggregate"] = ["rate(tables=<-, every!: duration, groupColumns: array, unit: duration)"],
        ["influxdata/influxdb/v1"] =
        SchemaSignatures,
        ["join"] =
        [
            "tables(left=<-, right!: any, on!: fn, as!: fn, method!: string)",
            "inner(left=<-, right!: any, on!: fn, as!: fn)", "left(left=<-, right!: any, on!: fn, as!: fn)",
            "right(left=<-, right!: any, on!: fn, as!: fn)", "full(left=<-, right!: any, on!: fn, as!: fn)",
        ],
        ["array"] = ["from(rows!: array)"],
        ["csv"] = ["from(csv!: string)"],
        ["influxdata/influxdb/schema"] =
        SchemaSignatures,
        ["timezone"] = ["fixed(offset!: duration)", "location(name!: string)"],
    };

    /// <summary>Non-function members of packages (constants).</summary>
    private static readonly Dictionary<string, string[]> PackageConstants = new()
    {
        ["math"] = ["pi", "e", "maxint", "minint", "maxfloat"],
        ["timezone"] = ["utc"],
        ["date"] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    };

    /// <summary>Names defined everywhere that are not functions: options.</summary>
    public static readonly FrozenSet<string> UniverseValues = FrozenSet.ToFrozenSet(["location", "inf", "v"]);

    public static readonly FrozenDictionary<string, FunctionSignature> Functions =
        Universe.Select(Parse).ToFrozenDictionary(s => s.Name);

    public static readonly FrozenDictionary<string, Package> Packages = PackageSources.ToFrozenDictionary(
        p => p.Key,
        p => new Package(
            p.Key,
            p.Value.Select(Parse).ToFrozenDictionary(s => s.Name),
            FrozenSet.ToFrozenSet(PackageConstants.GetValueOrDefault(p.Key) ?? [])));

    private static FunctionSignature Parse(string text)
    {
        var open = text.IndexOf('(');
        var parameters = new List<ParameterSignature>();
        foreach (var part in text[(open + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.EndsWith("=<-", StringComparison.Ordinal))
            {
                parameters.Add(new ParameterSignature(part[..^3], false, true, ValueKind.Any));
                continue;
            }

            var colon = part.IndexOf(':');
            var name = part[..colon].Trim();
            var required = name.EndsWith('!');
            parameters.Add(new ParameterSignature(
                name.TrimEnd('!'),
                required,
                false,
                Enum.Parse<ValueKind>(part[(colon + 1)..].Trim() switch { "fn" => "Function", var k => k }, ignoreCase: true)));
        }

        return new FunctionSignature(text[..open], parameters);
    }
}

internal sealed record Package(string Name, FrozenDictionary<string, FunctionSignature> Functions, FrozenSet<string> Constants)
{
    public IEnumerable<string> MemberNames => Functions.Keys.Concat(Constants);
}

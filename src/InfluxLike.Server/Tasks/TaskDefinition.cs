using Cronos;
using InfluxLike.Query;
using InfluxLike.Query.Ast;
using InfluxLike.Query.Diagnostics;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Semantics;

namespace InfluxLike.Server.Tasks;

/// <summary>What a task's <c>option task = {name, every | cron, offset}</c> says, read from its script.</summary>
public sealed record TaskDefinition(string Name, TimeSpan? Every, string? Cron, TimeSpan Offset)
{
    /// <summary>
    /// Checks a task script (syntax, names, arguments) and reads its task option. Throws
    /// <see cref="ArgumentException"/> naming the problem and where (line:column).
    /// </summary>
    public static TaskDefinition Parse(string flux)
    {
        var parsed = ScriptChecker.ParseAndCheck(flux);
        if (parsed.Ast is null)
        {
            var first = parsed.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Error);
            throw new ArgumentException($"error @{first.Span.Line}:{first.Span.Column}: {first.Message}");
        }

        var option = parsed.Ast.Body.OfType<OptionStatement>().Select(o => o.Assignment).OfType<VariableAssignment>().FirstOrDefault(a => a.Name.Name == "task")
            ?? throw new ArgumentException("the script has no task option: add option task = {name: \"...\", every: 1h}");
        if (option.Value is not RecordExpression record)
        {
            throw new ArgumentException($"error @{option.Span.Line}:{option.Span.Column}: option task must be a record literal");
        }

        string? name = null, cron = null;
        TimeSpan? every = null;
        TimeSpan offset = TimeSpan.Zero;
        foreach (Property p in record.Properties)
        {
            string key = p.Key switch { Identifier id => id.Name, StringLiteral s => s.Value, _ => "" };
            switch (key, p.Value)
            {
                case ("name", StringLiteral s):
                    name = s.Value;
                    break;
                case ("every", DurationLiteral d):
                    every = Duration(d, "every");
                    break;
                case ("offset", DurationLiteral d):
                    offset = Duration(d, "offset");
                    break;
                case ("cron", StringLiteral s):
                    cron = s.Value;
                    break;
                case ("concurrency" or "retry", _):
                    break;
                default:
                    throw new ArgumentException($"error @{p.Span.Line}:{p.Span.Column}: task option \"{key}\" must be a literal (name and cron strings, every and offset durations)");
            }
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("the task option needs a name");
        }

        if ((every is null) == (cron is null))
        {
            throw new ArgumentException("the task option needs exactly one of every and cron");
        }

        if (every is { } e && e <= TimeSpan.Zero)
        {
            throw new ArgumentException("every must be positive");
        }

        if (offset < TimeSpan.Zero)
        {
            throw new ArgumentException("offset must not be negative");
        }

        if (cron is not null)
        {
            try
            {
                CronExpression.Parse(cron);
            }
            catch (CronFormatException ex)
            {
                throw new ArgumentException($"cron \"{cron}\" is not a cron expression: {ex.Message}");
            }
        }

        return new TaskDefinition(name, every, cron, offset);
    }

    private static TimeSpan Duration(DurationLiteral d, string what)
    {
        var duration = Interpreter.ToDuration(d);
        if (duration.Months != 0)
        {
            throw new ArgumentException($"{what} must not use months or years");
        }

        return TimeSpan.FromTicks(duration.Nanoseconds / 100);
    }

    /// <summary>The first window stop after <paramref name="after"/>: the next multiple of every since the epoch, or the cron's next time.</summary>
    public DateTimeOffset NextStop(DateTimeOffset after)
    {
        if (Every is { } every)
        {
            long ticks = (after - DateTimeOffset.UnixEpoch).Ticks;
            long next = ((ticks / every.Ticks) + 1) * every.Ticks;
            return DateTimeOffset.UnixEpoch.AddTicks(next);
        }

        return CronExpression.Parse(Cron!).GetNextOccurrence(after, TimeZoneInfo.Utc) ?? DateTimeOffset.MaxValue;
    }

    /// <summary>The window ending at <paramref name="stop"/>: one every long, or back to the previous cron time.</summary>
    public DateTimeOffset StartOf(DateTimeOffset stop)
    {
        if (Every is { } every)
        {
            return stop - every;
        }

        // The previous occurrence: step back until the next one after it is stop.
        var cron = CronExpression.Parse(Cron!);
        for (TimeSpan back = TimeSpan.FromMinutes(1); back < TimeSpan.FromDays(400); back *= 2)
        {
            DateTimeOffset? candidate = null;
            foreach (var occurrence in cron.GetOccurrences(stop - back, stop, TimeZoneInfo.Utc, fromInclusive: true, toInclusive: false))
            {
                candidate = occurrence;
            }

            if (candidate is { } c)
            {
                return c;
            }
        }

        return stop - TimeSpan.FromDays(1);
    }

    /// <summary>The last window stop at or before <paramref name="at"/>.</summary>
    public DateTimeOffset LastStopAtOrBefore(DateTimeOffset at)
    {
        DateTimeOffset next = NextStop(at);
        DateTimeOffset start = StartOf(next);
        return start <= at ? start : StartOf(start);
    }
}

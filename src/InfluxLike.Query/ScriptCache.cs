using InfluxLike.Query.Semantics;
using InfluxLike.Query.Syntax;
using Microsoft.Extensions.Caching.Memory;

namespace InfluxLike.Query;

/// <summary>
/// Scripts already parsed and checked, by their exact text. Dashboards and tasks send the same scripts again
/// and again (a panel refreshing every few seconds), and parsing is the largest share of a small query's work;
/// the syntax tree is immutable, so one tree serves every run and every thread. Only scripts without errors are
/// kept: a failing script is parsed again, and its diagnostics are always fresh. Bounded by the total length of
/// the scripts held, least recently used first out; an entry unused for <see cref="IdleExpiry"/> leaves.
/// </summary>
public sealed class ScriptCache : IDisposable
{
    /// <summary>How long a script stays cached without being used.</summary>
    public static readonly TimeSpan IdleExpiry = TimeSpan.FromMinutes(30);

    private readonly MemoryCache _cache;
    private readonly long _maxChars;

    /// <param name="maxChars">Total script text held, in characters; a syntax tree takes roughly 20–40 bytes
    /// per character of its script, so the default of 256 Ki characters bounds the cache to about 10 MB.</param>
    public ScriptCache(long maxChars = 256 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChars);
        _maxChars = maxChars;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = maxChars, CompactionPercentage = 0.25 });
    }

    /// <summary>Number of scripts held now.</summary>
    public int Count => _cache.Count;

    /// <summary>The same answer as <see cref="ScriptChecker.ParseAndCheck"/> with no predefined names.</summary>
    public ParseResult ParseAndCheck(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (_cache.TryGetValue(source, out ParseResult? cached))
        {
            return cached!;
        }

        ParseResult parsed = ScriptChecker.ParseAndCheck(source);
        // A script larger than a sixteenth of the cache would push many others out for one entry.
        if (parsed.Succeeded && source.Length <= _maxChars / 16)
        {
            _cache.Set(source, parsed, new MemoryCacheEntryOptions { Size = Math.Max(1, source.Length), SlidingExpiration = IdleExpiry });
        }

        return parsed;
    }

    public void Dispose() => _cache.Dispose();
}

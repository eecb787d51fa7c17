using System.Text;
using System.Text.RegularExpressions;

namespace InfluxLike.Storage.Index;

/// <summary>The literal text every match of an anchored regex starts with (<c>^host_1\.</c> → <c>host_1.</c>).</summary>
internal static class RegexPrefix
{
    /// <summary>The prefix, or null when the pattern is not anchored, ignores case or alternates.</summary>
    public static string? Literal(Regex regex)
    {
        if ((regex.Options & (RegexOptions.IgnoreCase | RegexOptions.IgnorePatternWhitespace | RegexOptions.RightToLeft)) != 0)
        {
            return null;
        }

        string p = regex.ToString();
        if (!p.StartsWith('^') || p.Contains('|', StringComparison.Ordinal))
        {
            return null;
        }

        var prefix = new StringBuilder();
        int i = 1;
        while (i < p.Length)
        {
            char c = p[i];
            char literal;
            int width;
            if (c == '\\')
            {
                // Only escaped punctuation is a literal; \d, \w, \s... are classes.
                if (i + 1 >= p.Length || char.IsLetterOrDigit(p[i + 1]))
                {
                    break;
                }

                literal = p[i + 1];
                width = 2;
            }
            else if (".^$*+?()[]{}".Contains(c, StringComparison.Ordinal))
            {
                break;
            }
            else
            {
                literal = c;
                width = 1;
            }

            // A quantified character may occur zero times: it is not part of the prefix.
            if (i + width < p.Length && p[i + width] is '*' or '?' or '{')
            {
                break;
            }

            prefix.Append(literal);
            i += width;
        }

        return prefix.ToString();
    }
}

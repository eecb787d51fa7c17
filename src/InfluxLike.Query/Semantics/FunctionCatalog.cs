namespace InfluxLike.Query.Semantics;

/// <summary>A function the checker knows, for editors' completion: <see cref="Package"/> is empty for the universe.</summary>
public sealed record FunctionInfo(string Package, string Name, IReadOnlyList<ParameterInfo> Parameters);

/// <summary>One parameter; the piped one (<c>tables=&lt;-</c>) is left out, as a caller never writes it.</summary>
public sealed record ParameterInfo(string Name, string Type, bool Required);

/// <summary>The signatures of <see cref="Builtins"/>, read-only, for <c>/api/v2/query/suggestions</c>.</summary>
public static class FunctionCatalog
{
    public static IReadOnlyList<FunctionInfo> All { get; } = Build();

    private static FunctionInfo[] Build()
    {
        static FunctionInfo Info(string package, FunctionSignature s) => new(
            package,
            s.Name,
            [.. s.Parameters.Where(p => !p.IsPipe).Select(p => new ParameterInfo(p.Name, p.Kind.ToString().ToLowerInvariant(), p.Required))]);

        return
        [
            .. Builtins.Functions.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => Info("", s)),
            .. Builtins.Packages.Values.OrderBy(p => p.Name, StringComparer.Ordinal)
                .SelectMany(p => p.Functions.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => Info(p.Name, s))),
        ];
    }
}

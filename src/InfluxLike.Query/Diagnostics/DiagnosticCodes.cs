namespace InfluxLike.Query.Diagnostics;

/// <summary>Values of <see cref="Diagnostic.Code"/>; stable, tests and tools match on them.</summary>
public static class DiagnosticCodes
{
    public const string Syntax = "syntax";
    public const string NestingTooDeep = "nesting-too-deep";
    public const string ScriptTooLarge = "script-too-large";
    public const string TooManyErrors = "too-many-errors";
    public const string LiteralOutOfRange = "literal-out-of-range";
    public const string InvalidLiteral = "invalid-literal";
    public const string Semantic = "semantic";
}

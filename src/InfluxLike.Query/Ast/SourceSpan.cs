namespace InfluxLike.Query.Ast;

/// <summary>
/// Where a node or diagnostic sits in the script. <see cref="Line"/> and <see cref="Column"/> are
/// 1-based and count UTF-16 code units, like editors do; <see cref="Offset"/> is the 0-based index
/// of the first character and <see cref="Length"/> the number of characters covered.
/// </summary>
public readonly record struct SourceSpan(int Line, int Column, int Offset, int Length)
{
    public int End => Offset + Length;

    public override string ToString() => $"{Line}:{Column}+{Length}";
}

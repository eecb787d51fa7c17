namespace InfluxLike.Storage;

/// <summary>
/// Stored data failed a check (bad magic, checksum, length, or a value that cannot be decoded). Names the
/// file and the byte offset. Policy: the file is never decoded into garbage; the engine moves a corrupt
/// file aside and keeps serving the rest (see docs/format).
/// </summary>
public sealed class CorruptionException : IOException
{
    public CorruptionException(string file, long offset, string message)
        : base($"{file}: corrupt at offset {offset}: {message}")
    {
        File = file;
        Offset = offset;
        Reason = message;
    }

    public string File { get; }

    public long Offset { get; }

    public string Reason { get; }
}

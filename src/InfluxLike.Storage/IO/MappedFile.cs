using System.IO.MemoryMappedFiles;

namespace InfluxLike.Storage.IO;

/// <summary>
/// A read-only memory map of a file's first <see cref="Length"/> bytes. Spans into it are valid until
/// <see cref="Dispose"/>; owners keep a mapping alive for as long as any reader may hold such a span.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private int _disposed;

    private MappedFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePointer, long length)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePointer;
        Length = length;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>Maps the first <paramref name="length"/> bytes of <paramref name="path"/> (the whole file when -1).</summary>
    public static MappedFile Open(string path, long length = -1)
    {
        long size = length < 0 ? new FileInfo(path).Length : length;
        if (size == 0)
        {
            return new MappedFile(path, null, null, null, 0);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, size, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedFile(path, map, view, p + view.PointerOffset, size);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, Length);
        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    public ReadOnlySpan<byte> All => Length == 0 ? [] : Span(0, checked((int)Length));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map!.Dispose();
        }
    }
}

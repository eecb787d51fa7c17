using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>
/// A growable byte buffer rented from the pool, reused block after block by encoders (no allocation per
/// block once warm). Not thread-safe; return it with <see cref="Dispose"/>.
/// </summary>
internal sealed class ByteWriter : IDisposable
{
    private byte[] _buffer;

    public ByteWriter(int initialCapacity = 4096)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    public int Length { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>Space for at least <paramref name="size"/> bytes at the end; commit with <see cref="Advance"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - Length < size)
        {
            Grow(size);
        }

        return _buffer.AsSpan(Length);
    }

    public void Advance(int count) => Length += count;

    public void WriteByte(byte b)
    {
        GetSpan(1)[0] = b;
        Length++;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }

    public void WriteVarint(ulong value) => Length += Varint.Write(GetSpan(Varint.MaxLength), value);

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value);
        Length += 8;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(GetSpan(4), value);
        Length += 4;
    }

    /// <summary>Overwrites bytes already written (for lengths known only afterwards).</summary>
    public Span<byte> WrittenRange(int start, int length) => _buffer.AsSpan(start, length);

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Grow(int size)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + size));
        _buffer.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}

/// <summary>Unsigned LEB128 varints and zig-zag mapping of signed values.</summary>
internal static class Varint
{
    public const int MaxLength = 10;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    public static int Write(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    public static int Size(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    /// <summary>Reads a varint; false when the input ends inside it or it is longer than 10 bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        int shift = 0;
        while (position < source.Length && shift < 64)
        {
            byte b = source[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return shift < 63 || b <= 1;
            }

            shift += 7;
        }

        return false;
    }
}

using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>Appends bit fields, most significant bit first, to a <see cref="ByteWriter"/>.</summary>
internal struct BitWriter
{
    private readonly ByteWriter _output;
    private ulong _acc;   // pending bits, left-aligned
    private int _count;   // number of pending bits (< 64)

    public BitWriter(ByteWriter output)
    {
        _output = output;
        _acc = 0;
        _count = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ulong value, int bits)
    {
        if (bits == 0)
        {
            return;
        }

        if (bits < 64)
        {
            value &= (1UL << bits) - 1;
        }

        int free = 64 - _count;
        if (bits <= free)
        {
            _acc |= bits == 64 ? value : value << (free - bits);
            _count += bits;
            if (_count == 64)
            {
                FlushWord();
            }
        }
        else
        {
            int rest = bits - free;
            _acc |= value >> rest;
            _count = 64;
            FlushWord();
            _acc = value << (64 - rest);
            _count = rest;
        }
    }

    public void WriteBit(bool bit) => Write(bit ? 1UL : 0UL, 1);

    /// <summary>Writes the pending bits, padded with zeros to a whole byte.</summary>
    public void Flush()
    {
        int bytes = (_count + 7) / 8;
        Span<byte> span = _output.GetSpan(8);
        BinaryPrimitives.WriteUInt64BigEndian(span, _acc);
        _output.Advance(bytes);
        _acc = 0;
        _count = 0;
    }

    private void FlushWord()
    {
        BinaryPrimitives.WriteUInt64BigEndian(_output.GetSpan(8), _acc);
        _output.Advance(8);
        _acc = 0;
        _count = 0;
    }
}

/// <summary>Reads bit fields written by <see cref="BitWriter"/>; reading past the end sets <see cref="Overrun"/>.</summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _source;
    private long _bit;

    public BitReader(ReadOnlySpan<byte> source)
    {
        _source = source;
        _bit = 0;
        Overrun = false;
    }

    public bool Overrun { get; private set; }

    public readonly int BytesConsumed => (int)((_bit + 7) / 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(int bits)
    {
        if (bits == 0)
        {
            return 0;
        }

        if (_bit + bits > (long)_source.Length * 8)
        {
            Overrun = true;
            return 0;
        }

        int at = (int)(_bit >> 3);
        int shift = (int)(_bit & 7);
        ulong value;
        if (_source.Length - at >= 8)
        {
            ulong word = BinaryPrimitives.ReadUInt64BigEndian(_source[at..]);
            value = word << shift;
            if (shift + bits > 64)
            {
                value |= (ulong)_source[at + 8] >> (8 - shift);
            }
        }
        else
        {
            ulong word = 0;
            for (int i = 0; i < 8; i++)
            {
                word = (word << 8) | (at + i < _source.Length ? _source[at + i] : (byte)0);
            }

            value = word << shift;
        }

        _bit += bits;
        return value >> (64 - bits);
    }

    public bool ReadBit() => Read(1) != 0;
}

using System.Buffers;
using System.Runtime.InteropServices;

namespace InfluxLike.Storage.Tsm.Encoding;

/// <summary>
/// Signed and unsigned 64-bit integers: constant-delta form for counters that step evenly (and constants),
/// else zig-zag deltas bit-packed with <see cref="PackedIntegers"/>. Unsigned values go through the same
/// code as their bit patterns: deltas wrap modulo 2^64 on both sides, so extremes round-trip.
/// </summary>
internal static class IntegerCodec
{
    public const byte ConstantDelta = 0;
    public const byte Packed = 1;
    public const byte Rice = 2;

    public static void Encode(ReadOnlySpan<ulong> values, ByteWriter output) => Encode(MemoryMarshal.Cast<ulong, long>(values), output);

    public static void Encode(ReadOnlySpan<long> values, ByteWriter output)
    {
        int n = values.Length;
        if (TryWriteConstantDelta(values, output))
        {
            return;
        }

        long first = values[0];

        ulong[] deltas = ArrayPool<ulong>.Shared.Rent(n - 1);
        try
        {
            for (int i = 1; i < n; i++)
            {
                deltas[i - 1] = Varint.ZigZag(unchecked(values[i] - values[i - 1]));
            }

            // Whichever of fixed-width packing and Rice coding is smaller for these deltas.
            ReadOnlySpan<ulong> d = deltas.AsSpan(0, n - 1);
            long riceBits = RiceIntegers.EstimateBits(d, out int k);
            bool rice = riceBits < PackedIntegers.EstimateBits(d);
            output.WriteByte(rice ? Rice : Packed);
            output.WriteVarint(Varint.ZigZag(first));
            if (rice)
            {
                RiceIntegers.Encode(d, k, output);
            }
            else
            {
                PackedIntegers.Encode(d, output);
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(deltas);
        }
    }

    public static bool Decode(ReadOnlySpan<byte> source, Span<ulong> destination) => Decode(source, MemoryMarshal.Cast<ulong, long>(destination));

    public static bool Decode(ReadOnlySpan<byte> source, Span<long> destination)
    {
        int n = destination.Length;
        if (source.IsEmpty)
        {
            return n == 0;
        }

        int pos = 1;
        if (!Varint.TryRead(source, ref pos, out ulong zFirst))
        {
            return false;
        }

        long first = Varint.UnZigZag(zFirst);
        switch (source[0])
        {
            case ConstantDelta:
                return TryDecodeConstantDelta(source, pos, first, destination);

            case Packed or Rice:
                if (n < 2)
                {
                    return false;
                }

                Span<ulong> raw = MemoryMarshal.Cast<long, ulong>(destination[1..]);
                int used = source[0] == Rice ? RiceIntegers.Decode(source[pos..], raw) : PackedIntegers.Decode(source[pos..], raw);
                if (used < 0 || pos + used != source.Length)
                {
                    return false;
                }

                destination[0] = first;
                long prev = first;
                for (int i = 1; i < n; i++)
                {
                    prev = unchecked(prev + Varint.UnZigZag((ulong)destination[i]));
                    destination[i] = prev;
                }

                return true;

            default:
                return false;
        }
    }

    /// <summary>
    /// Writes the constant-delta form (form byte, first, delta) when every step of <paramref name="values"/>
    /// is the same (also for 0 or 1 values); shared with <see cref="TimestampCodec"/>.
    /// </summary>
    internal static bool TryWriteConstantDelta(ReadOnlySpan<long> values, ByteWriter output)
    {
        int n = values.Length;
        long first = n > 0 ? values[0] : 0;
        long delta = n > 1 ? unchecked(values[1] - values[0]) : 0;
        for (int i = 2; i < n; i++)
        {
            if (unchecked(values[i] - values[i - 1]) != delta)
            {
                return false;
            }
        }

        output.WriteByte(ConstantDelta);
        output.WriteVarint(Varint.ZigZag(first));
        output.WriteVarint(Varint.ZigZag(delta));
        return true;
    }

    /// <summary>Decodes the rest of a constant-delta section (the delta) from <paramref name="pos"/>.</summary>
    internal static bool TryDecodeConstantDelta(ReadOnlySpan<byte> source, int pos, long first, Span<long> destination)
    {
        if (!Varint.TryRead(source, ref pos, out ulong zDelta) || pos != source.Length)
        {
            return false;
        }

        long delta = Varint.UnZigZag(zDelta);
        long v = first;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = v;
            v = unchecked(v + delta);
        }

        return true;
    }
}

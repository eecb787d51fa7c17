using System.Buffers;

namespace InfluxLike.Storage.Tsm;

/// <summary>
/// A column of UTF-8 strings in one pooled buffer (bytes plus end offsets): no object per value.
/// Reuse it across blocks with <see cref="Clear"/>; <see cref="Dispose"/> returns the buffers.
/// </summary>
public sealed class StringColumn : IDisposable
{
    private byte[] _bytes = ArrayPool<byte>.Shared.Rent(1024);
    private int[] _ends = ArrayPool<int>.Shared.Rent(64);
    private int _length;

    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            int start = index == 0 ? 0 : _ends[index - 1];
            return _bytes.AsSpan(start, _ends[index] - start);
        }
    }

    public string GetString(int index) => System.Text.Encoding.UTF8.GetString(this[index]);

    public void Add(ReadOnlySpan<byte> value)
    {
        if (_bytes.Length - _length < value.Length)
        {
            Grow(ref _bytes, _length + value.Length, _length);
        }

        if (Count == _ends.Length)
        {
            Grow(ref _ends, Count + 1, Count);
        }

        value.CopyTo(_bytes.AsSpan(_length));
        _length += value.Length;
        _ends[Count++] = _length;
    }

    public void Add(string value) => Add(System.Text.Encoding.UTF8.GetBytes(value));

    public void Clear()
    {
        Count = 0;
        _length = 0;
    }

    public void Dispose()
    {
        if (_bytes.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            ArrayPool<int>.Shared.Return(_ends);
            _bytes = [];
            _ends = [];
        }
    }

    private static void Grow<T>(ref T[] array, int needed, int used)
    {
        T[] bigger = ArrayPool<T>.Shared.Rent(Math.Max(needed, array.Length * 2));
        array.AsSpan(0, used).CopyTo(bigger);
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array);
        }

        array = bigger;
    }
}

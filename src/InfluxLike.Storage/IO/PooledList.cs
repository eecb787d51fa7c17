using System.Buffers;
using System.Collections;

namespace InfluxLike.Storage.IO;

/// <summary>
/// A growable list over <see cref="ArrayPool{T}"/> arrays, for per-batch lists that would otherwise land on the
/// large-object heap every batch (and drive gen-2 collections). Dispose returns the array, cleared when
/// <typeparamref name="T"/> holds references.
/// </summary>
internal sealed class PooledList<T> : IReadOnlyList<T>, IDisposable
{
    private T[] _items;

    public PooledList(int capacity = 256)
    {
        _items = ArrayPool<T>.Shared.Rent(Math.Max(16, capacity));
    }

    public int Count { get; private set; }

    public T this[int index] => (uint)index < (uint)Count ? _items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public void Add(in T item)
    {
        if (Count == _items.Length)
        {
            T[] bigger = ArrayPool<T>.Shared.Rent(_items.Length * 2);
            _items.AsSpan(0, Count).CopyTo(bigger);
            Return(_items, Count);
            _items = bigger;
        }

        _items[Count++] = item;
    }

    public ReadOnlySpan<T> AsSpan() => _items.AsSpan(0, Count);

    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return _items[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        if (_items.Length > 0)
        {
            Return(_items, Count);
            _items = [];
            Count = 0;
        }
    }

    // Only the used part can hold references: clearing the whole rented array would cost more than the batch.
    private static void Return(T[] array, int used)
    {
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            array.AsSpan(0, used).Clear();
        }

        ArrayPool<T>.Shared.Return(array);
    }
}

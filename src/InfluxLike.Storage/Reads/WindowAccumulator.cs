using System.Runtime.InteropServices;
using InfluxLike.LineProtocol;

namespace InfluxLike.Storage.Reads;

/// <summary>
/// Aggregates one series field's points, fed in time order in chunks of any size (a decoded block, a cache
/// entry, a whole materialised range), into one <see cref="WindowValue"/> per window holding points. Windows
/// are <c>every</c> long, shifted by <c>offset</c> and aligned to the Unix epoch as Flux aligns them; their
/// bounds are clipped to [start, stop). A window may span chunks: its state carries over, and values are
/// combined in time order, so the result does not depend on where the chunks were cut.
/// </summary>
public sealed class WindowAccumulator
{
    private readonly long _start;
    private readonly long _stop;
    private readonly long _every;
    private readonly long _offset;
    private readonly WindowAggregate _aggregate;
    private readonly FieldType _type;
    private readonly List<WindowValue> _windows = [];

    private bool _open;
    private long _windowStart;
    private long _windowStop;
    private long _count;
    private double _floatAcc;  // float sum, mean's sum (also of integers), float min or max
    private long _integerAcc;  // integer sum (wrapping), integer min or max
    private long _first;
    private long _last;

    /// <param name="start">Start of the read range (window bounds are clipped to it).</param>
    /// <param name="stop">Exclusive stop of the read range.</param>
    /// <param name="every">Window length in nanoseconds.</param>
    /// <param name="offset">Window shift in nanoseconds.</param>
    /// <param name="aggregate">What to compute per window.</param>
    /// <param name="type">The field's type; strings support count only (their values are not numbers).</param>
    public WindowAccumulator(long start, long stop, long every, long offset, WindowAggregate aggregate, FieldType type)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, 0);
        if (!StorageReader.Supports(type, aggregate))
        {
            throw new NotSupportedException($"{aggregate} of a {type} field is not defined");
        }

        (_start, _stop, _every, _offset, _aggregate, _type) = (start, stop, every, offset, aggregate, type);
    }

    /// <summary>Points added so far.</summary>
    public long Points { get; private set; }

    /// <summary>Adds points that all come after those added before (times ascending, distinct).</summary>
    public void Add(ReadOnlySpan<long> times, ReadOnlySpan<long> bits)
    {
        if (bits.Length < times.Length)
        {
            throw new ArgumentException("a value is needed for every time", nameof(bits));
        }

        Points += times.Length;
        int i = 0;
        while (i < times.Length)
        {
            if (!_open || times[i] >= _windowStop)
            {
                Close();
                _windowStart = StorageReader.WindowStart(times[i], _every, _offset);
                _windowStop = _windowStart + _every;
                _open = true;
            }

            // The points of this chunk in the open window: times are sorted, so they are a prefix of what is left.
            int j = i + 1;
            if (j < times.Length && times[^1] < _windowStop)
            {
                j = times.Length; // the whole rest of the chunk (the usual case for a block inside a window)
            }
            else
            {
                while (j < times.Length && times[j] < _windowStop)
                {
                    j++;
                }
            }

            Accumulate(bits[i..j]);
            i = j;
        }
    }

    /// <summary>The windows holding points, in time order; the accumulator is spent.</summary>
    public List<WindowValue> Finish()
    {
        Close();
        return _windows;
    }

    private void Accumulate(ReadOnlySpan<long> values)
    {
        bool first = _count == 0;
        if (first)
        {
            _first = values[0];
        }

        _last = values[^1];
        _count += values.Length;
        switch (_aggregate)
        {
            case WindowAggregate.Count or WindowAggregate.First or WindowAggregate.Last:
                return;
        }

        if (_type == FieldType.Float)
        {
            ReadOnlySpan<double> floats = MemoryMarshal.Cast<long, double>(values);
            double acc = first ? (_aggregate is WindowAggregate.Min or WindowAggregate.Max ? floats[0] : 0) : _floatAcc;
            switch (_aggregate)
            {
                case WindowAggregate.Min:
                    foreach (double v in floats)
                    {
                        acc = Math.Min(acc, v);
                    }

                    break;
                case WindowAggregate.Max:
                    foreach (double v in floats)
                    {
                        acc = Math.Max(acc, v);
                    }

                    break;
                default:
                    foreach (double v in floats)
                    {
                        acc += v;
                    }

                    break;
            }

            _floatAcc = acc;
            return;
        }

        bool unsigned = _type == FieldType.Unsigned;
        if (_aggregate == WindowAggregate.Mean)
        {
            double sum = first ? 0 : _floatAcc;
            foreach (long v in values)
            {
                sum += unsigned ? (ulong)v : v;
            }

            _floatAcc = sum;
            return;
        }

        // Integers, unsigned and booleans (as 0/1): sum wraps as Go's does.
        long best = first ? values[0] : _integerAcc;
        switch (_aggregate)
        {
            case WindowAggregate.Sum:
                best = first ? 0 : best;
                foreach (long v in values)
                {
                    best = unchecked(best + v);
                }

                break;
            case WindowAggregate.Min:
                foreach (long v in values)
                {
                    if (unsigned ? (ulong)v < (ulong)best : v < best)
                    {
                        best = v;
                    }
                }

                break;
            default:
                foreach (long v in values)
                {
                    if (unsigned ? (ulong)v > (ulong)best : v > best)
                    {
                        best = v;
                    }
                }

                break;
        }

        _integerAcc = best;
    }

    private void Close()
    {
        if (!_open || _count == 0)
        {
            return;
        }

        long start = Math.Max(_windowStart, _start);
        long stop = Math.Min(_windowStop, _stop);
        _windows.Add(_aggregate switch
        {
            WindowAggregate.Count => new WindowValue(start, stop, _count, FieldType.Integer),
            WindowAggregate.First => new WindowValue(start, stop, _first, _type),
            WindowAggregate.Last => new WindowValue(start, stop, _last, _type),
            WindowAggregate.Mean => new WindowValue(start, stop, BitConverter.DoubleToInt64Bits(_floatAcc / _count), FieldType.Float),
            _ when _type == FieldType.Float => new WindowValue(start, stop, BitConverter.DoubleToInt64Bits(_floatAcc), FieldType.Float),
            WindowAggregate.Sum => new WindowValue(start, stop, _integerAcc, _type == FieldType.Boolean ? FieldType.Integer : _type),
            _ => new WindowValue(start, stop, _integerAcc, _type),
        });
        _count = 0;
        _open = false;
    }
}

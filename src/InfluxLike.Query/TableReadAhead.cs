using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;

namespace InfluxLike.Query;

/// <summary>
/// Reads a query's tables one ahead of their consumer: while the caller writes a table (the CSV writer), the next is
/// read from storage on another thread. A multi-table answer then takes about the longer of reading and writing,
/// not their sum. Tables come out in their order; an error comes out after the tables before it, as it would have.
/// </summary>
/// <remarks>
/// At most one table is read ahead: the next is read only once the one before it has been taken by the caller.
/// Memory: a table read past is reserved in the query's <see cref="MemoryTracker"/> until the caller moves past it,
/// on top of what the operators hold while reading the next. Only a table of up to an eighth of the limit, whose
/// reservation fits in what is left, is read past; otherwise reading waits until it is written, as without
/// read-ahead, so a query that fits its limit read table by table still fits it.
/// </remarks>
public sealed class TableReadAhead : IAsyncDisposable
{
    private readonly IEnumerator<(string Result, Table Table)> _source;
    private readonly MemoryTracker _memory;
    private readonly CancellationToken _cancellation;
    private readonly CancellationTokenSource _stop;
    private readonly Channel<Entry> _ready = Channel.CreateBounded<Entry>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
    private readonly SemaphoreSlim _written = new(0); // the consumer moved past a table that was not read past
    private Task? _producer;
    private ExceptionDispatchInfo? _error;
    private Entry _current;
    private bool _first = true;

    /// <param name="source">The tables, already moved to the first (its <c>MoveNext</c> returned true); disposed by
    /// <see cref="DisposeAsync"/>.</param>
    /// <param name="memory">The query's memory accounting.</param>
    /// <param name="cancellationToken">The query's cancellation (timeout, client gone).</param>
    public TableReadAhead(IEnumerator<(string Result, Table Table)> source, MemoryTracker memory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(memory);
        _source = source;
        _memory = memory;
        _cancellation = cancellationToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _current = Hold(source.Current);
        if (_current.Ahead)
        {
            _producer = Task.Run(ProduceAsync, CancellationToken.None); // read the second table while the first is written
        }
    }

    /// <summary>The table to write now.</summary>
    public (string Result, Table Table) Current => _current.Item;

    /// <summary>Moves to the next table (the caller is done with <see cref="Current"/>); false at the end.</summary>
    /// <exception cref="QueryException">Reading failed after the tables already given.</exception>
    /// <exception cref="OperationCanceledException">The query was cancelled or timed out.</exception>
    public async ValueTask<bool> MoveNextAsync()
    {
        if (_first)
        {
            _first = false;
            return true;
        }

        Done(_current);
        _current = default;
        _producer ??= Task.Run(ProduceAsync, CancellationToken.None); // the first table was large: read on only now
        while (await _ready.Reader.WaitToReadAsync(_cancellation).ConfigureAwait(false))
        {
            if (_ready.Reader.TryRead(out Entry next))
            {
                _current = next;
                return true;
            }
        }

        _error?.Throw();
        return false;
    }

    /// <summary>Stops reading, waits for the reading thread, releases what is held and disposes the source.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_producer is not null)
        {
            await _producer.ConfigureAwait(false); // it catches everything: nothing to observe
        }

        while (_ready.Reader.TryRead(out Entry left))
        {
            _memory.Release(left.Bytes);
        }

        _memory.Release(_current.Bytes);
        _current = default;
        _source.Dispose();
        _stop.Dispose();
        _written.Dispose();
    }

    private async Task ProduceAsync()
    {
        try
        {
            while (true)
            {
                // One ahead, no more: the next table is read once the caller has taken the one before it.
                if (!await _ready.Writer.WaitToWriteAsync(_stop.Token).ConfigureAwait(false))
                {
                    break;
                }

                _stop.Token.ThrowIfCancellationRequested();
                if (!_source.MoveNext())
                {
                    break;
                }

                Entry entry = Hold(_source.Current);
                try
                {
                    await _ready.Writer.WriteAsync(entry, _stop.Token).ConfigureAwait(false);
                }
                catch
                {
                    _memory.Release(entry.Bytes); // never handed over
                    throw;
                }

                if (!entry.Ahead)
                {
                    await _written.WaitAsync(_stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e)
        {
            _error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _ready.Writer.Complete();
        }
    }

    // A small table whose reservation fits is read past; otherwise nothing is reserved and reading waits for it.
    private Entry Hold((string Result, Table Table) item)
    {
        long bytes = item.Table.ApproximateBytes;
        return bytes <= _memory.LimitBytes / 8 && _memory.TryReserve(bytes) ? new Entry(item, bytes, true) : new Entry(item, 0, false);
    }

    private void Done(Entry entry)
    {
        _memory.Release(entry.Bytes);
        if (entry.Item.Table is not null && !entry.Ahead && _producer is not null)
        {
            _written.Release();
        }
    }

    private readonly record struct Entry((string Result, Table Table) Item, long Bytes, bool Ahead);
}

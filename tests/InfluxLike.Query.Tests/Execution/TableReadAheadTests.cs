using CsCheck;
using InfluxLike.Query.Data;
using InfluxLike.Query.Runtime;
using InfluxLike.Query.Values;

namespace InfluxLike.Query.Tests.Execution;

/// <summary>
/// Reading one table ahead of the writer: the same tables in the same order, errors after the tables before them,
/// the next table read while one is written (small tables only), and nothing held or read after disposal.
/// </summary>
public sealed class TableReadAheadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Gives_the_tables_in_order_and_releases_their_memory()
    {
        // Tables of 8 to 2,400 bytes against limits of 1,000 to 100,000: some read past, some too large to be (the first
        // among them), and some whose reservation does not fit in what another operator left.
        Gen.Select(Gen.OneOf(Gen.Int[1, 12], Gen.Int[100, 300]).Array[1, 30], Gen.Long[1_000, 100_000], Gen.Long[0, 900]).Sample((rows, limit, held) =>
        {
            var memory = new MemoryTracker(limit);
            memory.Reserve(held); // what other operators of the query hold meanwhile
            var source = new Source(rows.Select(n => Table(n)).ToArray());
            var got = Drain(source, memory);
            Assert.Equal(rows, got.Select(t => t.Rows));
            Assert.Equal(rows.Length, got.Count);
            Assert.True(source.Disposed);
            Assert.Equal(held, memory.Used);
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void A_query_that_fits_its_limit_table_by_table_is_not_failed_by_reading_ahead()
    {
        // Nearly all of the limit is held elsewhere: no read-ahead reservation fits, and none may fail the query.
        var tables = Enumerable.Range(1, 20).Select(_ => Table(10)).ToArray();
        var memory = new MemoryTracker(tables[0].ApproximateBytes * 100);
        memory.Reserve(memory.LimitBytes - 1);
        var got = Drain(new Source(tables), memory);
        Assert.Equal(20, got.Count);
        Assert.Equal(memory.LimitBytes - 1, memory.Used);
    }

    [Fact]
    public void An_error_arrives_after_the_tables_before_it()
    {
        Gen.Int[1, 10].SelectMany(n => Gen.Int[0, n - 1].Select(k => (n, k))).Sample((n, k) =>
        {
            var memory = new MemoryTracker(1 << 30);
            var source = new Source([.. Enumerable.Range(1, n).Select(Table)]) { FailAt = k };
            var got = new List<int>();
            var error = Assert.Throws<QueryException>(() => Drain(source, memory, got));
            Assert.Equal("broken at " + k, error.Message);
            Assert.Equal(Enumerable.Range(1, k), got);
            Assert.Equal(0, memory.Used);
        }, iter: 100, threads: 1);
    }

    [Fact]
    public async Task Reads_the_next_small_table_while_one_is_written()
    {
        var source = new Source([Table(1), Table(2), Table(3)]);
        var memory = new MemoryTracker(1 << 30);
        Assert.True(source.MoveNext());
        var tables = new TableReadAhead(source, memory, CancellationToken.None);
        Assert.True(await tables.MoveNextAsync());
        // The first table is not given back yet; the second is read meanwhile, and both are accounted for.
        await source.Reached(2).WaitAsync(Patience); // times out if the second table is not read ahead
        long both = Table(1).ApproximateBytes + Table(2).ApproximateBytes;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (memory.Used < both && waited.Elapsed < Patience)
        {
            await Task.Delay(5); // the reservation follows the read
        }

        Assert.Equal(both, memory.Used);

        // One ahead, no more: the third is not read while the first is still being written.
        await Task.WhenAny(source.Reached(3), Task.Delay(300));
        Assert.False(source.Reached(3).IsCompleted, "a second table was read ahead");
        Assert.True(await tables.MoveNextAsync());
        Assert.Equal(2, tables.Current.Table.Rows);
        await tables.DisposeAsync();
        Assert.Equal(0, memory.Used);
    }

    [Fact]
    public async Task Does_not_read_past_a_table_larger_than_an_eighth_of_the_limit()
    {
        var large = Table(100);
        var source = new Source([Table(1), large, Table(1)]);
        var memory = new MemoryTracker(large.ApproximateBytes * 4);
        Assert.True(source.MoveNext());
        var tables = new TableReadAhead(source, memory, CancellationToken.None);
        Assert.True(await tables.MoveNextAsync());
        Assert.True(await tables.MoveNextAsync());
        Assert.Equal(100, tables.Current.Table.Rows);
        await Task.WhenAny(source.Reached(3), Task.Delay(300));
        Assert.False(source.Reached(3).IsCompleted, "the table after a large one was read while it was written");
        Assert.True(await tables.MoveNextAsync());
        Assert.Equal(1, tables.Current.Table.Rows);
        Assert.False(await tables.MoveNextAsync());
        await tables.DisposeAsync();
        Assert.Equal(0, memory.Used);
    }

    [Fact]
    public async Task Disposing_midway_stops_reading_and_releases_everything()
    {
        var source = new Source([.. Enumerable.Range(1, 50).Select(Table)]);
        var memory = new MemoryTracker(1 << 30);
        Assert.True(source.MoveNext());
        var tables = new TableReadAhead(source, memory, CancellationToken.None);
        Assert.True(await tables.MoveNextAsync());
        Assert.True(await tables.MoveNextAsync());
        await tables.DisposeAsync();
        int calls = source.Calls;
        Assert.True(source.Disposed);
        Assert.True(calls < 50, $"{calls} tables read");
        Assert.Equal(0, memory.Used);
        await Task.Delay(50);
        Assert.Equal(calls, source.Calls); // nothing reads after disposal
    }

    [Fact]
    public async Task Disposing_while_reading_waits_for_a_large_table_to_be_written()
    {
        var large = Table(100);
        var source = new Source([large, large, large]);
        var memory = new MemoryTracker(large.ApproximateBytes * 4); // each table is over an eighth of the limit
        Assert.True(source.MoveNext());
        var tables = new TableReadAhead(source, memory, CancellationToken.None);
        Assert.True(await tables.MoveNextAsync());
        Assert.True(await tables.MoveNextAsync()); // the reading thread now waits until this one is written
        await tables.DisposeAsync().AsTask().WaitAsync(Patience);
        Assert.True(source.Disposed);
        Assert.Equal(2, source.Calls);
        Assert.Equal(0, memory.Used);
    }

    [Fact]
    public async Task A_cancelled_query_ends_the_wait_for_the_next_table()
    {
        using var cancel = new CancellationTokenSource();
        var source = new Source([Table(1), Table(2)]) { BlockAt = 2 };
        var memory = new MemoryTracker(1 << 30);
        Assert.True(source.MoveNext());
        var tables = new TableReadAhead(source, memory, cancel.Token);
        Assert.True(await tables.MoveNextAsync());
        var next = tables.MoveNextAsync().AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next);
        source.Unblock();
        await tables.DisposeAsync();
        Assert.Equal(0, memory.Used);
    }

    private static List<Table> Drain(Source source, MemoryTracker memory, List<int>? rows = null)
    {
        var got = new List<Table>();
        if (!source.MoveNext())
        {
            return got;
        }

        var tables = new TableReadAhead(source, memory, CancellationToken.None);
        try
        {
            while (tables.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                got.Add(tables.Current.Table);
                rows?.Add(tables.Current.Table.Rows);
            }
        }
        finally
        {
            tables.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return got;
    }

    private static Table Table(int rows)
    {
        ColumnMeta[] columns = [new("_value", Kind.Float)];
        ColumnData[] data = [new(Kind.Float, new long[rows], null, null)];
        return new Table(new GroupKey([], []), columns, data, rows);
    }

    // Gives its tables as a query's result enumerator would; counts the tables asked for.
    private sealed class Source(Table[] tables) : IEnumerator<(string Result, Table Table)>
    {
        private readonly TaskCompletionSource[] _reached = [.. Enumerable.Range(0, tables.Length + 2).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        private readonly ManualResetEventSlim _unblocked = new(false);
        private int _at = -1;

        public int FailAt { get; init; } = -1;

        public int BlockAt { get; init; } = -1;

        public int Calls => Volatile.Read(ref _at) + 1;

        public bool Disposed { get; private set; }

        public (string Result, Table Table) Current => ("_result", tables[_at]);

        object System.Collections.IEnumerator.Current => Current;

        /// <summary>Completes once table <paramref name="n"/> (1-based) has been asked for.</summary>
        public Task Reached(int n) => _reached[n].Task;

        public void Unblock() => _unblocked.Set();

        public bool MoveNext()
        {
            int at = Interlocked.Increment(ref _at);
            _reached[Math.Min(at + 1, _reached.Length - 1)].TrySetResult();
            if (at + 1 == BlockAt)
            {
                _unblocked.Wait(Patience);
            }

            if (at == FailAt)
            {
                throw new QueryException("broken at " + at);
            }

            return at < tables.Length;
        }

        public void Reset() => throw new NotSupportedException();

        public void Dispose()
        {
            Disposed = true;
            _unblocked.Dispose();
        }
    }
}

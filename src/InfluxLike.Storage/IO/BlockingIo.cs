using System.Collections.Concurrent;

namespace InfluxLike.Storage.IO;

/// <summary>
/// A few dedicated threads for calls that block on the disk for as long as it takes (the WAL's writes and fsyncs),
/// so that a slow disk holds up the writes waiting on it, not the thread pool that serves queries and health checks.
/// </summary>
/// <remarks>
/// Measured with every WAL fsync taking 200 ms to 1 s on the 2-core machine: the flusher, blocked in fsync on a pool
/// thread, held one of the pool's two minimum threads, and the pool (which adds threads slowly when they block
/// outside a task wait) answered 7 dashboard queries in 8 s, p99 7.3 s (<c>StorageFaultTests.A_slow_disk…</c>). With
/// the fsync here: 50 to 64 queries, p50 40 ms, on the same machine under a load of 7.
/// Eight threads: one per shard being written at once is more than a disk serves in parallel; a shard beyond
/// them waits for a free thread, as it would for the disk.
/// </remarks>
internal static class BlockingIo
{
    private const int ThreadCount = 8;
    private static readonly BlockingCollection<WorkItem> Queue = [];
    private static int _started;

    /// <summary>Runs <paramref name="work"/>(<paramref name="state"/>) on an I/O thread; the task ends with it.</summary>
    public static Task RunAsync(Action<object> work, object state)
    {
        if (Volatile.Read(ref _started) == 0 && Interlocked.Exchange(ref _started, 1) == 0)
        {
            for (int i = 0; i < ThreadCount; i++)
            {
                new Thread(Loop) { IsBackground = true, Name = "influxlike-io-" + i }.Start();
            }
        }

        var item = new WorkItem(work, state);
        Queue.Add(item);
        return item.Done.Task;
    }

    private static void Loop()
    {
        foreach (WorkItem item in Queue.GetConsumingEnumerable())
        {
            try
            {
                item.Work(item.State);
                item.Done.TrySetResult();
            }
            catch (Exception e)
            {
                item.Done.TrySetException(e);
            }
        }
    }

    private sealed class WorkItem(Action<object> work, object state)
    {
        public Action<object> Work { get; } = work;

        public object State { get; } = state;

        // Continuations run on the pool, never on an I/O thread.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace InfluxLike.Fuzz;

/// <summary>A fuzz target's property did not hold for an input: the fuzzer records it as a crash.</summary>
public sealed class FuzzPropertyException(string message) : Exception(message)
{
    public static void Check([DoesNotReturnIf(false)] bool condition, string message)
    {
        if (!condition)
        {
            Throw(message);
        }
    }

    [DoesNotReturn]
    private static void Throw(string message) => throw new FuzzPropertyException(message);
}

/// <summary>
/// Runs one input under the limits both fuzzers share: a 1 MiB stack (deep recursion shows up here before it can
/// overflow a server thread's), at most <see cref="AllocationLimitBytes"/> allocated, and, where the fuzzer does not
/// time runs itself (CsCheck; AFL++ has <c>-t</c>), a time limit.
/// </summary>
public static class FuzzGuard
{
    public const long AllocationLimitBytes = 256L << 20;

    public const int StackBytes = 1 << 20;

    /// <summary>
    /// Runs <paramref name="target"/> on <paramref name="input"/> on a fresh thread. Throws what the target threw
    /// (wrapped, naming the input), a <see cref="TimeoutException"/> past <paramref name="timeLimit"/> (the
    /// target's thread is left behind, as a background thread), or an <see cref="InvalidOperationException"/>
    /// when the target allocated more than the limit.
    /// </summary>
    public static void Run<T>(T input, Action<T> target, Func<T, string> describe, TimeSpan? timeLimit = null)
    {
        long allocated = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target(input);
            }
            catch (Exception e)
            {
                failure = e;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, maxStackSize: StackBytes) { IsBackground = true };
        var watch = Stopwatch.StartNew();
        thread.Start();
        if (timeLimit is { } limit)
        {
            if (!thread.Join(limit))
            {
                throw new TimeoutException($"no answer after {limit.TotalSeconds} s for {describe(input)}");
            }
        }
        else
        {
            thread.Join();
        }

        if (failure is not null)
        {
            throw new InvalidOperationException($"{failure.GetType().Name} for {describe(input)}: {failure.Message}", failure);
        }

        if (allocated > AllocationLimitBytes)
        {
            throw new InvalidOperationException($"{allocated} bytes allocated in {watch.Elapsed} for {describe(input)}");
        }
    }

    public static string Show(byte[] input) => $"{input.Length} bytes, base64 {Convert.ToBase64String(input)}";
}

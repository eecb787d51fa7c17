using System.Buffers;
using System.IO.Pipelines;

namespace InfluxLike.Server.Http;

/// <summary>
/// A response's <see cref="PipeWriter"/> for a writer that writes synchronously (the CSV writer writes whole tables):
/// bytes go straight into the pipe's memory, and the pipe is flushed (handed to the socket) once
/// <see cref="SpillBytes"/> are pending, or when the caller flushes at a table's end. Kestrel's stream adapter
/// flushed on every write; a 1 MB answer made a hundred hand-offs to the sending thread.
/// A spill waits for the socket synchronously, as the stream adapter did; at most --max-concurrent-queries queries
/// hold a thread that way.
/// </summary>
internal sealed class SpillingPipeWriter(PipeWriter pipe) : IBufferWriter<byte>
{
    /// <summary>
    /// Pending bytes that trigger a flush inside a write, so the socket sends one part while the next is formatted
    /// (flushing every 64 KiB was slower when the response buffer was 64 KiB: every flush waited for the socket).
    /// </summary>
    public const int SpillBytes = 16 * 1024;

    private long _pending;

    public Memory<byte> GetMemory(int sizeHint = 0) => pipe.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => pipe.GetSpan(sizeHint);

    public void Advance(int count)
    {
        pipe.Advance(count);
        _pending += count;
        if (_pending >= SpillBytes)
        {
            _pending = 0;
            ValueTask<FlushResult> flush = pipe.FlushAsync();
            Check(flush.IsCompletedSuccessfully ? flush.Result : flush.AsTask().GetAwaiter().GetResult());
        }
    }

    /// <summary>Hands what is pending to the socket.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        _pending = 0;
        Check(await pipe.FlushAsync(cancellationToken).ConfigureAwait(false));
    }

    private static void Check(FlushResult result)
    {
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new ClientDisconnectedException();
        }
    }
}

/// <summary>
/// The response's reader is gone (the client closed the connection). Kestrel completes the pipe before it cancels
/// <c>RequestAborted</c>, so this is how a write learns it first.
/// </summary>
internal sealed class ClientDisconnectedException() : IOException("the client closed the connection");

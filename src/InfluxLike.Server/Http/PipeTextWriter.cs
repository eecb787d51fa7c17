using System.IO.Pipelines;
using System.Text;

namespace InfluxLike.Server.Http;

/// <summary>
/// A <see cref="TextWriter"/> that encodes UTF-8 straight into a response's <see cref="PipeWriter"/>: no
/// StreamWriter buffers in between, and the pipe is flushed (handed to the socket) only once
/// <see cref="SpillBytes"/> are pending, or when the caller flushes at a table's end. Kestrel's stream adapter
/// flushed on every write; a 1 MB answer made a hundred hand-offs to the sending thread.
/// A spill waits for the socket synchronously, as the stream adapter did: the CSV writer writes whole tables
/// synchronously, and at most --max-concurrent-queries queries hold a thread that way.
/// </summary>
internal sealed class PipeTextWriter : TextWriter
{
    /// <summary>
    /// Pending bytes that trigger a flush inside a write: a quarter of Kestrel's response buffer, so the socket
    /// sends one part while the next is formatted (at the full 64 KiB every flush waited for the socket).
    /// </summary>
    public const int SpillBytes = 16 * 1024;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly PipeWriter _pipe;
    private readonly Encoder _encoder = Utf8.GetEncoder(); // keeps a surrogate pair split across writes whole
    private long _pending;

    public PipeTextWriter(PipeWriter pipe)
    {
        _pipe = pipe;
    }

    public override Encoding Encoding => Utf8;

    public override void Write(char value) => Write(new ReadOnlySpan<char>(in value));

    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    public override void Write(string? value) => Write(value.AsSpan());

    public override void Write(ReadOnlySpan<char> chars)
    {
        while (!chars.IsEmpty)
        {
            // As many chars as the pipe's current segment holds (16 bytes fit any char, a surrogate pair too).
            Span<byte> room = _pipe.GetSpan(16);
            _encoder.Convert(chars, room, flush: false, out int used, out int written, out _);
            _pipe.Advance(written);
            _pending += written;
            chars = chars[used..];
            if (_pending >= SpillBytes)
            {
                _pending = 0;
                FlushResult result = _pipe.FlushAsync().AsTask().GetAwaiter().GetResult();
                if (result.IsCanceled || result.IsCompleted)
                {
                    throw new ClientDisconnectedException();
                }
            }
        }
    }

    /// <summary>
    /// Hands what is pending to the socket. As StreamWriter's flush, it also ends the encoder's state: a lone high
    /// surrogate left by the last write becomes U+FFFD rather than vanishing.
    /// </summary>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        Span<byte> room = _pipe.GetSpan(16);
        _encoder.Convert(ReadOnlySpan<char>.Empty, room, flush: true, out _, out int written, out _);
        _pipe.Advance(written);
        _pending = 0;
        FlushResult result = await _pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new ClientDisconnectedException();
        }
    }

    public override Task FlushAsync() => FlushAsync(CancellationToken.None);

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
}

/// <summary>
/// The response's reader is gone (the client closed the connection). Kestrel completes the pipe before it cancels
/// <c>RequestAborted</c>, so this is how a write learns it first.
/// </summary>
internal sealed class ClientDisconnectedException() : IOException("the client closed the connection");

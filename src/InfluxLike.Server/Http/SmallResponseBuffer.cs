using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace InfluxLike.Server.Http;

/// <summary>
/// The response body of a streamed answer (query results), held back while it is small: an answer that ends
/// within <see cref="Limit"/> bytes goes out in one write with a Content-Length, not as chunks followed by a
/// separate end-of-body write. Past the limit, or once the producer asks (<see cref="StreamNowAsync"/>: a slow
/// query showing its first tables), everything held goes out and the rest streams through.
/// </summary>
internal sealed class SmallResponseBuffer(HttpResponse response, int limit = SmallResponseBuffer.Limit) : Stream
{
    public const int Limit = 32 * 1024;

    private readonly Stream _body = response.Body;
    private byte[]? _held = ArrayPool<byte>.Shared.Rent(limit);
    private int _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_held is not null && _length + buffer.Length <= limit)
        {
            buffer.CopyTo(_held.AsSpan(_length));
            _length += buffer.Length;
            return;
        }

        Spill();
        _body.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_held is not null && _length + buffer.Length <= limit)
        {
            buffer.Span.CopyTo(_held.AsSpan(_length));
            _length += buffer.Length;
            return;
        }

        await SpillAsync(cancellationToken).ConfigureAwait(false);
        await _body.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Passes a flush on once streaming; while holding back it does nothing (the writer above flushes into this
    /// stream, and <see cref="CompleteAsync"/> or <see cref="StreamNowAsync"/> decide when bytes leave).
    /// </summary>
    public override void Flush()
    {
        if (_held is null)
        {
            _body.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _held is null ? _body.FlushAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>Stops holding back: what is held goes to the client now, and the rest streams.</summary>
    public async Task StreamNowAsync(CancellationToken cancellationToken)
    {
        await SpillAsync(cancellationToken).ConfigureAwait(false);
        await _body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the body: what is still held goes out in one write, its length declared.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_held is { } held)
        {
            _held = null;
            try
            {
                if (!response.HasStarted)
                {
                    response.ContentLength = _length;
                }

                await _body.WriteAsync(held.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(held);
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_held is { } held)
        {
            _held = null;
            ArrayPool<byte>.Shared.Return(held);
        }

        base.Dispose(disposing);
    }

    private void Spill()
    {
        if (_held is { } held)
        {
            _held = null;
            _body.Write(held.AsSpan(0, _length));
            ArrayPool<byte>.Shared.Return(held);
        }
    }

    private async ValueTask SpillAsync(CancellationToken cancellationToken)
    {
        if (_held is { } held)
        {
            _held = null;
            try
            {
                await _body.WriteAsync(held.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(held);
            }
        }
    }
}

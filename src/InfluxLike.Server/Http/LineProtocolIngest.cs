using System.Buffers;
using System.IO.Compression;
using System.Text;
using InfluxLike.LineProtocol;
using InfluxLike.Server.Replication;
using InfluxLike.Storage.Engine;
using InfluxLike.Storage.Shards;
using Microsoft.AspNetCore.Http;

namespace InfluxLike.Server.Http;

/// <summary>How a write request ended, for the v2 and v1 endpoints to answer in their own shapes.</summary>
internal sealed record IngestOutcome(int Status, string Code, string Message, int RetryAfterSeconds = 0)
{
    public static readonly IngestOutcome Ok = new(204, "", "");
}

/// <summary>
/// Streams a write body (identity or gzip, with or without Content-Length) through the line-protocol reader
/// into the engine in pieces of at most <see cref="PieceBytes"/>, so a large body never sits in memory whole.
/// Each piece ends at an entry boundary; an entry cut by the piece's end is carried into the next one.
/// </summary>
internal static class LineProtocolIngest
{
    /// <summary>Bytes handed to the engine at a time (a typical Telegraf batch is one piece).</summary>
    public const int PieceBytes = 4 << 20;

    private const int MaxReported = 100;

    public static async Task<IngestOutcome> WriteAsync(HttpRequest request, StorageEngine engine, BucketInfo bucket, Precision precision, long maxBodySize, bool acceptPartial, ReplicationService? replication = null)
    {
        string encoding = request.Headers.ContentEncoding.ToString();
        bool gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return new IngestOutcome(415, "invalid", $"unsupported Content-Encoding \"{encoding}\": use gzip or identity");
        }

        if (!gzip && request.ContentLength > maxBodySize)
        {
            return await TooLargeAsync(request, maxBodySize).ConfigureAwait(false);
        }

        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        Stream body = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : request.Body;
        // A body of known length up to a piece is read in one go; otherwise the buffer grows to a piece.
        int initial = !gzip && request.ContentLength is long length ? (int)Math.Min(length + 1, PieceBytes) : 256 << 10;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(initial);
        var errors = new List<LineProtocolError>();
        var rejected = new List<string>();
        int errorCount = 0;
        int rejectedCount = 0;
        try
        {
            int filled = 0;
            long total = 0;
            long line = 1;
            bool end = false;
            while (!end)
            {
                int n = await body.ReadAsync(buffer.AsMemory(filled), request.HttpContext.RequestAborted).ConfigureAwait(false);
                end = n == 0;
                total += n;
                filled += n;
                if (total > maxBodySize)
                {
                    return await TooLargeAsync(request, maxBodySize).ConfigureAwait(false);
                }

                if (filled < buffer.Length && !end)
                {
                    continue;
                }

                // All-or-nothing needs the whole body before anything is stored: grow until the end. Otherwise
                // grow up to a piece, so that each durable commit carries a piece's worth of points.
                if (!end && (!acceptPartial || buffer.Length < PieceBytes))
                {
                    buffer = Grow(buffer, filled, maxBodySize);
                    continue;
                }

                if (!acceptPartial)
                {
                    var invalid = Validate(buffer.AsSpan(0, filled), precision, now);
                    if (invalid.Count > 0)
                    {
                        return BadLines(invalid, invalid.Count, partial: false);
                    }
                }

                var (result, consumed) = await engine.WriteLineProtocolAsync(bucket, buffer.AsMemory(0, filled), precision, now, final: end, firstLine: line).ConfigureAwait(false);
                // Queued for replication before the write is acknowledged (a no-op when no stream replicates the bucket).
                replication?.Enqueue(bucket, buffer.AsSpan(0, consumed), precision, now);
                errorCount += result.LineErrors.Count;
                rejectedCount += result.Rejected.Count;
                errors.AddRange(result.LineErrors.Take(MaxReported - errors.Count));
                rejected.AddRange(result.Rejected.Take(MaxReported - rejected.Count));
                line += buffer.AsSpan(0, consumed).Count((byte)'\n');
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
                if (consumed == 0 && !end)
                {
                    buffer = Grow(buffer, filled, maxBodySize); // one entry longer than the buffer
                }
            }
        }
        catch (InvalidDataException e)
        {
            return new IngestOutcome(400, "invalid", "the body is not valid gzip: " + e.Message);
        }
        catch (ShardBusyException e)
        {
            return new IngestOutcome(503, "unavailable", e.Message, RetryAfterSeconds: 1);
        }
        catch (BucketNotFoundException e)
        {
            return new IngestOutcome(404, "not found", e.Message);
        }
        catch (StorageFailedException e)
        {
            return new IngestOutcome(503, "unavailable", e.Message); // no Retry-After: only a restart helps
        }
        catch (StorageFullException e)
        {
            // 507, a 5xx: clients such as Telegraf keep the batch and retry rather than drop it.
            return new IngestOutcome(507, "unavailable", e.Message, RetryAfterSeconds: 30);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (gzip)
            {
                await body.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (errorCount > 0)
        {
            return BadLines(errors, errorCount, partial: true);
        }

        if (rejectedCount > 0)
        {
            return new IngestOutcome(422, "unprocessable entity", $"partial write: {string.Join("; ", rejected.Take(20))} dropped={rejectedCount}");
        }

        return IngestOutcome.Ok;
    }

    /// <summary>
    /// The 413 answer. The rest of the body is read and dropped first (up to a bound), so that the client,
    /// still sending, gets the answer instead of a broken connection: Telegraf halves its batch on 413.
    /// </summary>
    private static async Task<IngestOutcome> TooLargeAsync(HttpRequest request, long limit)
    {
        byte[] sink = ArrayPool<byte>.Shared.Rent(64 << 10);
        try
        {
            long drained = 0;
            int n;
            while (drained < 4 * limit && (n = await request.Body.ReadAsync(sink, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
            {
                drained += n;
            }
        }
        catch (IOException)
        {
            // the client gave up: nothing to answer
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sink);
        }

        return new(413, "request too large", $"the request body is larger than the limit of {limit} bytes (--max-body-size); send smaller batches");
    }

    private static IngestOutcome BadLines(IReadOnlyList<LineProtocolError> errors, int count, bool partial)
    {
        var message = new StringBuilder(partial
            ? "unable to parse the line protocol (the other lines were written): "
            : "unable to parse the line protocol (nothing was written, accept_partial=false): ");
        message.AppendJoin("; ", errors.Take(MaxReported).Select(e => e.ToString()));
        if (count > MaxReported)
        {
            message.Append(System.Globalization.CultureInfo.InvariantCulture, $"; and {count - MaxReported} more");
        }

        return new IngestOutcome(400, "invalid", message.ToString());
    }

    private static List<LineProtocolError> Validate(ReadOnlySpan<byte> body, Precision precision, long now)
    {
        var errors = new List<LineProtocolError>();
        var reader = new LineProtocolReader(body, new LineProtocolReaderOptions { Precision = precision, DefaultTimestamp = now });
        try
        {
            while (reader.Read())
            {
                if (reader.Error is { } e)
                {
                    errors.Add(e);
                }
            }
        }
        finally
        {
            reader.Dispose();
        }

        return errors;
    }

    private static byte[] Grow(byte[] buffer, int filled, long limit)
    {
        int size = (int)Math.Min(Math.Max(buffer.Length * 2L, 1 << 16), Math.Min(limit + 1, Array.MaxLength));
        byte[] bigger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, filled).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }
}

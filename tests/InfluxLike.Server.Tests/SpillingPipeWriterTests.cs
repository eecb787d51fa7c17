using System.Buffers;
using System.IO.Pipelines;
using CsCheck;
using InfluxLike.Server.Http;

namespace InfluxLike.Server.Tests;

/// <summary>The response writer under the CSV writer: bytes written in any pieces arrive whole and in order.</summary>
public sealed class SpillingPipeWriterTests
{
    [Fact]
    public void Bytes_written_in_pieces_arrive_whole()
    {
        Gen.Select(Gen.Byte.Array[1, 3000], Gen.Int[1, 50].Array[1, 20], Gen.Int[1, 200]).Sample((chunk, cuts, repeat) =>
        {
            byte[] whole = [.. Enumerable.Repeat(chunk, repeat).SelectMany(b => b)]; // up to ~600 KB: several spills
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0)); // the test drains after writing
            var writer = new SpillingPipeWriter(pipe.Writer);
            int at = 0;
            for (int i = 0; at < whole.Length; i++)
            {
                int n = Math.Min(cuts[i % cuts.Length] * (i % 2 == 0 ? 1000 : 1), whole.Length - at);
                writer.Write(whole.AsSpan(at, n)); // GetSpan, copy, Advance: as the CSV writer hands over its pieces
                at += n;
            }

            writer.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
            pipe.Writer.Complete();
            var received = new MemoryStream();
            pipe.Reader.AsStream().CopyTo(received);
            Assert.Equal(whole, received.ToArray());
        }, iter: 60);
    }

    [Fact]
    public async Task A_writer_held_back_by_a_slow_reader_still_delivers_everything_in_order()
    {
        // A small pause threshold: spills wait for the reader (the blocking branch), which drains in small steps.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4096, resumeWriterThreshold: 2048, useSynchronizationContext: false));
        byte[] whole = [.. Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7))];
        var received = new MemoryStream();
        Task reading = Task.Run(async () =>
        {
            while (true)
            {
                ReadResult read = await pipe.Reader.ReadAsync();
                foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                {
                    received.Write(segment.Span);
                }

                pipe.Reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }

                await Task.Delay(1);
            }
        });
        await Task.Run(async () =>
        {
            var writer = new SpillingPipeWriter(pipe.Writer);
            for (int at = 0; at < whole.Length; at += 1000)
            {
                writer.Write(whole.AsSpan(at, Math.Min(1000, whole.Length - at)));
            }

            await writer.FlushAsync(CancellationToken.None);
            await pipe.Writer.CompleteAsync();
        }).WaitAsync(TimeSpan.FromSeconds(60));
        await reading.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(whole, received.ToArray());
    }

    [Fact]
    public void A_large_write_is_handed_on_before_it_ends()
    {
        // Nothing reads until the write is over; the pipe must still have been flushed during it (spills), so a
        // reader sees bytes without the caller's final flush.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writer = new SpillingPipeWriter(pipe.Writer);
        writer.Write(new byte[SpillingPipeWriter.SpillBytes * 3]);
        Assert.True(pipe.Reader.TryRead(out ReadResult read));
        Assert.True(read.Buffer.Length >= SpillingPipeWriter.SpillBytes, $"{read.Buffer.Length} bytes flushed");
        pipe.Reader.AdvanceTo(read.Buffer.End);
    }

    [Fact]
    public async Task A_small_write_waits_for_the_flush()
    {
        var pipe = new Pipe();
        var writer = new SpillingPipeWriter(pipe.Writer);
        writer.Write("abc"u8);
        Assert.False(pipe.Reader.TryRead(out _));
        await writer.FlushAsync(CancellationToken.None);
        Assert.True(pipe.Reader.TryRead(out ReadResult read));
        Assert.Equal("abc"u8.ToArray(), read.Buffer.ToArray());
    }

    [Fact]
    public async Task A_closed_reader_ends_the_write_with_a_disconnect_error()
    {
        var pipe = new Pipe();
        await pipe.Reader.CompleteAsync();
        var writer = new SpillingPipeWriter(pipe.Writer);
        Assert.Throws<ClientDisconnectedException>(() => writer.Write(new byte[SpillingPipeWriter.SpillBytes + 1]));
        await Assert.ThrowsAsync<ClientDisconnectedException>(() => writer.FlushAsync(CancellationToken.None));
    }
}

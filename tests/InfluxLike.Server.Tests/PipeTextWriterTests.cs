using System.IO.Pipelines;
using System.Text;
using CsCheck;
using InfluxLike.Server.Http;

namespace InfluxLike.Server.Tests;

/// <summary>The response text writer: what goes in as chars comes out of the pipe as the same UTF-8, whole.</summary>
public sealed class PipeTextWriterTests
{
    // ASCII mostly, with two- and three-byte chars and surrogate pairs, which writes may split anywhere.
    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.String[Gen.Char.AlphaNumeric, 0, 200],
        Gen.Const("é"), Gen.Const("€"), Gen.Const("😀"), Gen.Const("日本"), Gen.Const(",\"\r\n"))
        .Array[1, 400].Select(parts => string.Concat(parts));

    [Fact]
    public void Text_written_in_pieces_arrives_as_its_utf8_bytes()
    {
        Gen.Select(Text, Gen.Int[1, 50].Array[1, 20], Gen.Int[1, 30]).Sample((text, cuts, repeat) =>
        {
            string whole = string.Concat(Enumerable.Repeat(text, repeat)); // up to ~2 MB: several spills
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0)); // the test drains after writing
            var writer = new PipeTextWriter(pipe.Writer);
            int at = 0;
            for (int i = 0; at < whole.Length; i++)
            {
                int n = Math.Min(cuts[i % cuts.Length] * (i % 3 == 0 ? 1000 : 1), whole.Length - at);
                switch (i % 3)
                {
                    case 0: writer.Write(whole.AsSpan(at, n)); break;
                    case 1: writer.Write(whole.Substring(at, n)); break;
                    default:
                        foreach (char c in whole.AsSpan(at, n))
                        {
                            writer.Write(c);
                        }

                        break;
                }

                at += n;
            }

            writer.Flush();
            pipe.Writer.Complete();
            var received = new MemoryStream();
            pipe.Reader.AsStream().CopyTo(received);
            Assert.Equal(Encoding.UTF8.GetBytes(whole), received.ToArray());
        }, iter: 60);
    }

    [Fact]
    public void A_large_write_is_handed_on_before_it_ends()
    {
        // Nothing reads until the write is over; the pipe must still have been flushed during it (spills), so a
        // reader sees bytes without the caller's final flush.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writer = new PipeTextWriter(pipe.Writer);
        writer.Write(new string('x', PipeTextWriter.SpillBytes * 3));
        Assert.True(pipe.Reader.TryRead(out ReadResult read));
        Assert.True(read.Buffer.Length >= PipeTextWriter.SpillBytes, $"{read.Buffer.Length} bytes flushed");
        pipe.Reader.AdvanceTo(read.Buffer.End);
    }

    [Fact]
    public async Task A_closed_reader_ends_the_write_with_a_disconnect_error()
    {
        var pipe = new Pipe();
        await pipe.Reader.CompleteAsync();
        var writer = new PipeTextWriter(pipe.Writer);
        Assert.Throws<ClientDisconnectedException>(() => writer.Write(new string('x', PipeTextWriter.SpillBytes + 1)));
        await Assert.ThrowsAsync<ClientDisconnectedException>(() => writer.FlushAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_lone_high_surrogate_at_a_flush_becomes_a_replacement_character()
    {
        var pipe = new Pipe();
        var writer = new PipeTextWriter(pipe.Writer);
        writer.Write("a\uD83D");
        await writer.FlushAsync(CancellationToken.None);
        writer.Write("b");
        await writer.FlushAsync(CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        var received = new MemoryStream();
        await pipe.Reader.AsStream().CopyToAsync(received);
        Assert.Equal("a\uFFFDb", Encoding.UTF8.GetString(received.ToArray()));
    }
}

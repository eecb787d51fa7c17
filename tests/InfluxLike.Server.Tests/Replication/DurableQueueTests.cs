using System.Text;
using CsCheck;
using InfluxLike.Server.Replication;

namespace InfluxLike.Server.Tests.Replication;

public sealed class DurableQueueTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "influxlike-queue-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static List<string> ReadAll(DurableQueue q)
    {
        var (records, _) = q.Read(int.MaxValue);
        return [.. records.Select(r => Encoding.UTF8.GetString(r.Payload.Span))];
    }

    [Fact]
    public void Records_come_back_in_order_across_segments_and_reopening_and_acknowledged_ones_are_gone()
    {
        using (var q = DurableQueue.Open(_dir, segmentMaxBytes: 64))
        {
            for (int i = 0; i < 10; i++)
            {
                Assert.True(q.Append(Encoding.UTF8.GetBytes($"record {i}"), 1000 + i, maxBytes: 0));
            }

            Assert.True(Directory.GetFiles(_dir, "*.seg").Length > 2); // rolled
            var (first, next) = q.Read(maxBytes: 20); // stops once 20 bytes of payload are read
            Assert.Equal(["record 0", "record 1", "record 2"], first.Select(r => Encoding.UTF8.GetString(r.Payload.Span)));
            Assert.Equal(1000, first[0].EnqueuedUnixMs);
            q.Acknowledge(next);
            Assert.Equal(7 * (DurableQueue.HeaderBytes + 8), q.Bytes);
        }

        using (var q = DurableQueue.Open(_dir, segmentMaxBytes: 64))
        {
            Assert.Equal(Enumerable.Range(3, 7).Select(i => $"record {i}"), ReadAll(q));
            var (_, end) = q.Read(int.MaxValue);
            q.Acknowledge(end);
            Assert.Equal(0, q.Bytes);
            Assert.Empty(ReadAll(q));
            Assert.Single(Directory.GetFiles(_dir, "*.seg")); // finished segments are removed
            Assert.True(q.Append("after"u8, 1, 0));
            Assert.Equal(["after"], ReadAll(q));
        }
    }

    [Fact]
    public void A_torn_tail_is_cut_off_at_open_and_appends_continue_after_it()
    {
        using (var q = DurableQueue.Open(_dir))
        {
            q.Append("one"u8, 1, 0);
            q.Append("two"u8, 2, 0);
        }

        string seg = Directory.GetFiles(_dir, "*.seg").Single();
        long whole = new FileInfo(seg).Length;
        using (var f = new FileStream(seg, FileMode.Open))
        {
            f.SetLength(whole - 2); // a crash in the middle of the second append
        }

        using (var q = DurableQueue.Open(_dir))
        {
            Assert.Equal(whole - 2 - (DurableQueue.HeaderBytes + 3), q.RepairedBytes);
            Assert.Equal(["one"], ReadAll(q));
            q.Append("three"u8, 3, 0);
            Assert.Equal(["one", "three"], ReadAll(q));
        }
    }

    [Fact]
    public void A_flipped_bit_in_a_record_cuts_the_queue_there_instead_of_sending_garbage()
    {
        using (var q = DurableQueue.Open(_dir))
        {
            q.Append("first"u8, 1, 0);
            q.Append("second"u8, 2, 0);
        }

        string seg = Directory.GetFiles(_dir, "*.seg").Single();
        byte[] bytes = File.ReadAllBytes(seg);
        bytes[^2] ^= 0x10;
        File.WriteAllBytes(seg, bytes);
        using var reopened = DurableQueue.Open(_dir);
        Assert.Equal(["first"], ReadAll(reopened));
        Assert.True(reopened.RepairedBytes > 0);
    }

    [Fact]
    public void A_full_queue_refuses_the_record_and_keeps_what_it_holds()
    {
        using var q = DurableQueue.Open(_dir);
        Assert.True(q.Append(new byte[100], 1, maxBytes: 300));
        Assert.True(q.Append(new byte[100], 1, maxBytes: 300));
        Assert.False(q.Append(new byte[100], 1, maxBytes: 300)); // 3 × 116 > 300
        Assert.Equal(2 * 116, q.Bytes);
        var (_, next) = q.Read(1);
        q.Acknowledge(next);
        Assert.True(q.Append(new byte[100], 1, maxBytes: 300)); // room again once delivered
    }

    [Fact]
    public void A_damaged_cursor_file_is_reported_rather_than_replaying_or_skipping_silently()
    {
        using (var q = DurableQueue.Open(_dir))
        {
            q.Append("x"u8, 1, 0);
            var (_, next) = q.Read(10);
            q.Acknowledge(next);
        }

        byte[] cursor = File.ReadAllBytes(Path.Combine(_dir, "cursor"));
        cursor[3] ^= 1;
        File.WriteAllBytes(Path.Combine(_dir, "cursor"), cursor);
        var e = Assert.Throws<IOException>(() => DurableQueue.Open(_dir));
        Assert.Contains("cursor", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Random appends, partial reads, acknowledgements and reopenings behave as a FIFO list.</summary>
    [Fact]
    public void Property_the_queue_is_a_durable_fifo()
    {
        var op = Gen.OneOf(
            Gen.Int[0, 40].Select(n => (Kind: 0, N: n)),      // append a record of n bytes
            Gen.Int[1, 120].Select(n => (Kind: 1, N: n)),     // read about n bytes and acknowledge them
            Gen.Const((Kind: 2, N: 0)));                      // close and reopen
        op.Array[1, 60].Sample(ops =>
        {
            string dir = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
            var model = new Queue<byte[]>();
            var q = DurableQueue.Open(dir, segmentMaxBytes: 100);
            try
            {
                int serial = 0;
                foreach (var (kind, n) in ops)
                {
                    switch (kind)
                    {
                        case 0:
                            byte[] payload = [.. Enumerable.Range(0, n).Select(i => (byte)(serial + i))];
                            serial++;
                            Assert.True(q.Append(payload, serial, 0));
                            model.Enqueue(payload);
                            break;
                        case 1:
                            var (records, next) = q.Read(n);
                            foreach (QueueRecord r in records)
                            {
                                Assert.Equal(model.Dequeue(), r.Payload.ToArray());
                            }

                            q.Acknowledge(next);
                            break;
                        default:
                            q.Dispose();
                            q = DurableQueue.Open(dir, segmentMaxBytes: 100);
                            break;
                    }

                    Assert.Equal(model.Sum(p => (long)p.Length + DurableQueue.HeaderBytes), q.Bytes);
                }

                var (rest, _) = q.Read(int.MaxValue);
                Assert.Equal(model.ToArray(), rest.Select(r => r.Payload.ToArray()).ToArray());
            }
            finally
            {
                q.Dispose();
            }
        }, iter: 200);
    }
}

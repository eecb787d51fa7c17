using CsCheck;

namespace InfluxLike.Fuzz;

/// <summary>
/// Mutation fuzzing on CsCheck: inputs are seeds from a corpus changed by a few byte-level mutations (flip, insert
/// an interesting byte, delete, duplicate or splice a range), AFL's havoc stage in miniature. Each input runs
/// on a watchdog: a crash (an exception the target does not document), a hang (over <see cref="TimeLimit"/>) or
/// runaway memory (over <see cref="FuzzGuard.AllocationLimitBytes"/> allocated) fails the run, and CsCheck shrinks
/// the failing input. INFLUXLIKE_FUZZ_ITERATIONS sets the inputs per target (CI runs a short campaign).
/// </summary>
internal static class FuzzHarness
{
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(5);

    public static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("INFLUXLIKE_FUZZ_ITERATIONS"), out int n) ? n : 1500;

    // Bytes that tend to matter to parsers: delimiters, escapes, quotes, digits, signs, high bits, zero.
    private static readonly byte[] Interesting = [.. "\n\r\t ,=\"\\#{}[]()|>:.-+eE0123456789iutTfF/*$"u8, 0x00, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF];

    /// <summary>Seeds with 1 to 8 mutations each.</summary>
    public static Gen<byte[]> Mutated(IReadOnlyList<byte[]> seeds) =>
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int[0, seeds.Count - 1], Gen.Int.Array[3, 4].Array[1, 8], (s, other, ops) =>
        {
            var data = new List<byte>(seeds[s]);
            foreach (int[] op in ops)
            {
                Mutate(data, seeds[other], op);
            }

            return data.ToArray();
        });

    private static void Mutate(List<byte> data, byte[] other, int[] r)
    {
        int Pick(int i, int bound) => bound <= 0 ? 0 : (int)((uint)r[i % r.Length] % (uint)bound);
        switch (Pick(0, 7))
        {
            case 0 when data.Count > 0:
                data[Pick(1, data.Count)] ^= (byte)(1 << Pick(2, 8));
                break;
            case 1:
                data.Insert(Pick(1, data.Count + 1), Interesting[Pick(2, Interesting.Length)]);
                break;
            case 2 when data.Count > 0:
            {
                int at = Pick(1, data.Count);
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + Pick(2, 16)));
                break;
            }

            case 3 when data.Count > 0:
            {
                int at = Pick(1, data.Count);
                int length = Math.Min(data.Count - at, 1 + Pick(2, 64));
                data.InsertRange(Pick(3, data.Count + 1), data.GetRange(at, length));
                break;
            }

            case 4 when other.Length > 0:
            {
                int at = Pick(1, other.Length);
                data.InsertRange(Pick(2, data.Count + 1), other.AsSpan(at, Math.Min(other.Length - at, 1 + Pick(3, 64))).ToArray());
                break;
            }

            case 5 when data.Count > 0:
                data[Pick(1, data.Count)] = Interesting[Pick(2, Interesting.Length)];
                break;
            case 6 when data.Count >= 4:
            {
                // An integer field set to a boundary value: lengths and counts in binary formats.
                int at = Pick(1, data.Count - 3);
                uint[] boundary = [0, 1, 0x7F, 0x80, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF];
                BitConverter.TryWriteBytes(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(data).Slice(at, 4), boundary[Pick(2, boundary.Length)]);
                break;
            }
        }
    }

    /// <summary>Runs <paramref name="target"/> on one input under the time and memory limits.</summary>
    public static void Run<T>(T input, Action<T> target, Func<T, string> describe) => FuzzGuard.Run(input, target, describe, TimeLimit);

    public static string Show(byte[] input) => FuzzGuard.Show(input);
}

namespace InfluxLike.Fuzz;

/// <summary>
/// Every target of the AFL++ harness (tests/InfluxLike.Fuzz.Afl) run directly over the seed corpus
/// scripts/fuzz.sh gives AFL++, without AFL++: so the harness's bodies and seeds cannot rot between campaigns.
/// </summary>
public sealed class HarnessSeedTests
{
    [Theory]
    [MemberData(nameof(Targets.Names), MemberType = typeof(Targets))]
    public void Each_seed_passes_its_target(string name)
    {
        FuzzTarget target = FuzzTargets.Find(name)!;
        IReadOnlyList<byte[]> seeds = target.Seeds();
        Assert.NotEmpty(seeds);
        foreach (byte[] seed in seeds)
        {
            FuzzGuard.Run(seed, target.Body, FuzzGuard.Show, FuzzHarness.TimeLimit);
        }
    }

    [Fact]
    public void A_wal_pair_survives_its_encoding()
    {
        byte[][] segments = FuzzSeeds.WalSegments;
        var (older, last) = FuzzTargets.DecodeWalPair(FuzzTargets.EncodeWalPair(segments[0], segments[1]));
        Assert.Equal(segments[0], older);
        Assert.Equal(segments[1], last);
        var (none, all) = FuzzTargets.DecodeWalPair([7]);
        Assert.Empty(none);
        Assert.Equal([7], all);
    }
}

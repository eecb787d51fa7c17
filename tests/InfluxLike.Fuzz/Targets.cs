using System.Text;
using System.Text.Json;
using CsCheck;

namespace InfluxLike.Fuzz;

/// <summary>
/// The mutation campaign over every target of <see cref="FuzzTargets"/> (the bodies and seed corpora the AFL++
/// harness, tests/InfluxLike.Fuzz.Afl, runs too).
/// </summary>
public sealed class Targets
{
    public static TheoryData<string> Names => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void Campaign(string name)
    {
        FuzzTarget target = FuzzTargets.Find(name)!;
        Func<byte[], string> describe = name is "flux" or "csv" ? b => JsonSerializer.Serialize(Encoding.UTF8.GetString(b)) : FuzzHarness.Show;
        FuzzHarness.Mutated(target.Seeds()).Sample(input => FuzzHarness.Run(input, target.Body, describe), iter: FuzzHarness.Iterations);
    }
}

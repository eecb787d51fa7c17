using BenchmarkDotNet.Running;

namespace InfluxLike.Benchmarks;

internal static class Program
{
    // dotnet run -c Release --project perf/InfluxLike.Benchmarks -- --filter '*LineProtocol*'
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

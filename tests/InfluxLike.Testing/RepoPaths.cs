namespace InfluxLike.Testing;

/// <summary>Where the repository and the read-only <c>../shared</c> folder are, found from the test binaries.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root (the folder holding InfluxLike.sln).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>The shared folder beside the repository (read-only in CI: never write there).</summary>
    public static string Shared
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("INFLUXLIKE_SHARED_DIR");
            string dir = fromEnv ?? Path.GetFullPath(Path.Combine(Root, "..", "shared"));
            if (!Directory.Exists(dir))
            {
                throw new DirectoryNotFoundException($"The shared folder was not found at {dir}; set INFLUXLIKE_SHARED_DIR.");
            }

            return dir;
        }
    }

    public static string Conformance(params string[] parts) => Path.Combine([Shared, "conformance", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "InfluxLike.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("InfluxLike.sln was not found above " + AppContext.BaseDirectory);
    }
}

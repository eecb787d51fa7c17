namespace InfluxLike.Storage.Engine;

/// <summary>
/// Keeps a second engine (another server, a second process on the same folder by mistake) from opening a data
/// folder that one already has open: two writers of one WAL and one set of TSM files would lose data. The lock
/// is the operating system's (an exclusive lock on <c>LOCK</c>, taken by opening it unshared), so it goes away
/// with the process that held it, even after a crash.
/// </summary>
public sealed class DataFolderLock : IDisposable
{
    public const string FileName = "LOCK";

    private readonly FileStream _file;

    private DataFolderLock(FileStream file)
    {
        _file = file;
    }

    /// <exception cref="DataFolderInUseException">Another engine has the folder open.</exception>
    public static DataFolderLock Acquire(string folder)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        try
        {
            return new DataFolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            throw new DataFolderInUseException(folder, e);
        }

        // Any other failure (a full or read-only disk, a broken LOCK) is reported as itself, with the path.
    }

    // The lock is held: flock's EWOULDBLOCK on Linux (11) and the BSDs and macOS (35), which .NET reports as a sharing
    // violation with the errno as HResult; on Windows a sharing or lock violation (Win32 errors 32, 33).
    private static bool IsHeldElsewhere(IOException e) =>
        e.GetType() == typeof(IOException) &&
        (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33
            : e.HResult == (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 35 : 11));

    public void Dispose() => _file.Dispose();
}

/// <summary>The data folder is open in another engine (or another process); nothing was read or changed.</summary>
public sealed class DataFolderInUseException(string folder, Exception inner)
    : IOException($"the data folder {folder} is in use by another InfluxLike process (it holds {Path.Combine(folder, DataFolderLock.FileName)}); stop that one first", inner)
{
    public string Folder => folder;
}

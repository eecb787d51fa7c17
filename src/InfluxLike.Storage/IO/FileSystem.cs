using System.Runtime.InteropServices;

namespace InfluxLike.Storage.IO;

/// <summary>Durability helpers the BCL lacks: fsync of a directory after a rename into it.</summary>
public static partial class FileSystem
{
    // Plain O_RDONLY: Linux opens a directory read-only without O_DIRECTORY, whose value differs between
    // architectures (0x10000 on x86-64, 0x4000 on arm and arm64: the x86 value made arm64 open() fail, EINVAL).
    private const int ORdOnly = 0;

    /// <summary>
    /// Makes a rename or creation inside <paramref name="directory"/> durable (POSIX needs the directory
    /// itself fsynced). A no-op where the platform offers no way to do it.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd = Open(directory, ORdOnly);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Renames <paramref name="from"/> over <paramref name="to"/> atomically and makes it durable.</summary>
    public static void ReplaceDurably(string from, string to)
    {
        File.Move(from, to, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(to))!);
    }

    /// <summary>
    /// Replaces the file at <paramref name="path"/> with <paramref name="bytes"/> so that after a crash it holds
    /// either the old or the new content, never a mix: write a temporary file, fsync it, rename, fsync the folder.
    /// </summary>
    public static void WriteAllBytesDurably(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = path + ".tmp";
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            f.Write(bytes);
            f.Flush(flushToDisk: true);
        }

        ReplaceDurably(temp, path);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

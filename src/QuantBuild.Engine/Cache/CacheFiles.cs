using System.Runtime.InteropServices;
using System.Security.Cryptography;
using QuantBuild.Engine.Files;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// How the cache moves files without holding them in memory: a hard link where source and destination share a file
/// system (the entry and the output then share the bytes; every writer of either replaces a file by rename, never in
/// place, and a hit re-hashes what it serves), else a streamed copy flushed to disk. Always to a new name first, so the
/// caller's rename is what makes a file appear.
/// </summary>
internal static class CacheFiles
{
    private const int Buffer = 1 << 20;

    /// <summary>Makes <paramref name="destination"/> (which must not exist) hold <paramref name="source"/>'s bytes.</summary>
    /// <returns>True when it is a hard link, false when it is a copy.</returns>
    public static bool LinkOrCopy(string source, string destination)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            try
            {
                if (Link(source, destination) == 0)
                {
                    return true;
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No libc link(): copy.
            }
        }

        using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, Buffer))
        using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, Buffer))
        {
            input.CopyTo(output, Buffer);
            output.Flush(flushToDisk: true);
        }

        return false;
    }

    /// <summary>SHA-256 and size of a file, streamed.</summary>
    public static (string Sha256, long Bytes) Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, Buffer);
        return (CacheKey.Hex(SHA256.HashData(stream)), stream.Length);
    }

    /// <summary>
    /// Links or copies <paramref name="source"/> to a temp name beside <paramref name="path"/>, for the caller to rename
    /// into place (<see cref="StagedFile.Commit"/>); null when <paramref name="path"/> already holds the same bytes.
    /// </summary>
    public static StagedFile? Stage(string source, string path) => AtomicFile.Stage(source, path, static (from, temp) => LinkOrCopy(from, temp));

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}

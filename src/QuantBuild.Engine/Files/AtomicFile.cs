using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Files;

/// <summary>
/// Writes a file through a temp file beside it and a rename, so a crash never leaves half a file. The first write
/// into a folder in a process also removes the temp files a killed run left there (<see cref="RemoveStale"/>).
/// </summary>
public static class AtomicFile
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Swept = new(StringComparer.Ordinal);

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>; the old file stays intact until the rename.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        try
        {
            WriteUnguarded(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(path, e);
        }
    }

    /// <summary>
    /// QB5010: the file system refused an output (a folder, a read-only file or a full disk where the file goes).
    /// The old file, if any, is intact: writes only ever replace it by a rename.
    /// </summary>
    internal static QuantBuildException CannotWrite(string path, Exception e) =>
        new("QB5010", $"Could not write {path}: {e.Message}",
            "make sure nothing else (a folder, a read-only file) stands at that path and the disk has room, then run again", path);

    private static void WriteUnguarded(string path, ReadOnlySpan<byte> bytes)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        if (Swept.TryAdd(directory, true))
        {
            RemoveStale(directory);
        }

        string temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> only when the file does not already hold exactly them, so an unchanged output keeps its
    /// timestamp and incremental builds stay incremental.
    /// </summary>
    /// <returns>True when the file was written.</returns>
    public static bool WriteIfChanged(string path, ReadOnlySpan<byte> bytes)
    {
        var existing = new FileInfo(path);
        if (existing.Exists && existing.Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            return false;
        }

        Write(path, bytes);
        return true;
    }

    /// <summary>Writes text as UTF-8 atomically, and only when it changed.</summary>
    public static bool WriteTextIfChanged(string path, string text) => WriteIfChanged(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Writes text as UTF-8 atomically.</summary>
    public static void WriteText(string path, string text) => Write(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Deletes temp files (<c>.NAME.PID.GUID.tmp</c>) in <paramref name="directory"/> whose writing process is gone.
    /// </summary>
    /// <returns>How many were removed.</returns>
    public static int RemoveStale(string directory)
    {
        int removed = 0;
        try
        {
            foreach (string temp in Directory.EnumerateFiles(directory, ".*.tmp"))
            {
                // .NAME.PID.GUID.tmp: the pid is the third field from the end.
                string[] parts = Path.GetFileName(temp).Split('.');
                if (parts.Length >= 5 && parts[^2].Length == 32 && StaleTemp.OwnerGone(parts[^3]))
                {
                    StaleTemp.TryDelete(temp);
                    removed++;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable folder fails the write itself, with a clearer error, a moment later.
        }

        return removed;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="path"/> through a temp file and a rename, only when the
    /// target does not already hold the same bytes (compared streamed, so a multi-gigabyte file is never in memory).
    /// </summary>
    /// <returns>True when the file was written.</returns>
    public static bool CopyIfChanged(string source, string path)
    {
        using StagedFile? staged = StageCopy(source, path);
        staged?.Commit();
        return staged is not null;
    }

    /// <summary>
    /// The first half of <see cref="CopyIfChanged"/>: copies <paramref name="source"/> to a temp file beside
    /// <paramref name="path"/> and leaves the rename to <see cref="StagedFile.Commit"/>, so a caller can put another file
    /// (a manifest) in place before this one appears. Null when <paramref name="path"/> already holds the same bytes.
    /// </summary>
    public static StagedFile? StageCopy(string source, string path) => Stage(source, path, static (from, temp) =>
    {
        using var input = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        input.CopyTo(output, 1 << 20);
        output.Flush(flushToDisk: true);
    });

    /// <summary>
    /// Puts <paramref name="source"/>'s bytes at a temp name beside <paramref name="path"/> with <paramref name="fill"/>
    /// (a copy, or a hard link) and leaves the rename to <see cref="StagedFile.Commit"/>; null when
    /// <paramref name="path"/> already holds the same bytes. A failure to write is QB5010 naming the path.
    /// </summary>
    internal static StagedFile? Stage(string source, string path, Action<string, string> fill)
    {
        try
        {
            if (SameContent(source, path))
            {
                return null;
            }

            string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(directory);
            string temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            var staged = new StagedFile(temp, path);
            try
            {
                fill(source, temp);
                return staged;
            }
            catch
            {
                staged.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(path, e);
        }
    }

    internal static bool SameContent(string a, string b)
    {
        var target = new FileInfo(b);
        if (!target.Exists || target.Length != new FileInfo(a).Length)
        {
            return false;
        }

        using var x = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var y = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var bx = new byte[1 << 20];
        var by = new byte[1 << 20];
        while (true)
        {
            int n = x.ReadAtLeast(bx, bx.Length, throwOnEndOfStream: false);
            int m = y.ReadAtLeast(by, by.Length, throwOnEndOfStream: false);
            if (n != m || !bx.AsSpan(0, n).SequenceEqual(by.AsSpan(0, m)))
            {
                return false;
            }

            if (n == 0)
            {
                return true;
            }
        }
    }
}

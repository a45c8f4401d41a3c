namespace QuantBuild.Onnx;

/// <summary>
/// Checks a file the tool is about to read on a user's behalf (model, external data, calibration and
/// evaluation data, labels, config). Only regular files with content are read: a device (/dev/zero), a FIFO or
/// a /proc file would hang or stream without end, so each is refused before it is opened. Symlinks are resolved
/// component by component, so containment checks see where the bytes really are.
/// </summary>
public static class InputFile
{
    // Pseudo file systems: their entries report a size (0, 4096) that says nothing about what a read returns.
    private static readonly string[] PseudoRoots = ["/dev/", "/proc/", "/sys/"];

    // Linux's own limit on symlinks followed while resolving one path (ELOOP).
    private const int MaxLinkHops = 40;

    /// <summary>
    /// Why <paramref name="path"/> cannot be read as an input file, or null when it is a regular, non-empty file.
    /// <paramref name="realPath"/> is where the path leads after every symlink (the path itself when it cannot be resolved).
    /// </summary>
    public static string? Problem(string path, out string realPath)
    {
        realPath = path;
        if (path.Length == 0 || path.Contains('\0'))
        {
            return "the path is empty or contains a NUL character";
        }

        string? resolved = TryRealPath(path);
        if (resolved is null)
        {
            return "it is a symlink loop or a path that cannot be resolved";
        }

        realPath = resolved;
        foreach (string root in PseudoRoots)
        {
            if (resolved.StartsWith(root, StringComparison.Ordinal) && Path.DirectorySeparatorChar == '/')
            {
                return $"it resolves to {resolved}, a device or kernel file, not a regular file";
            }
        }

        var info = new FileInfo(resolved);
        if (!info.Exists)
        {
            return Directory.Exists(resolved) ? "it is a folder, not a file"
                : resolved != Path.GetFullPath(path) ? $"it is a symlink to {resolved}, which does not exist"
                : "it does not exist";
        }

        // A FIFO, socket or device reports length 0 (block and character devices too), as does an empty file:
        // none of them holds anything to read, and opening a FIFO would block until a writer appears.
        return info.Length == 0 ? "it is empty, or not a regular file (a FIFO, socket or device)" : null;
    }

    /// <summary>True when <paramref name="realPath"/> lies strictly inside <paramref name="realFolder"/> (both already real paths).</summary>
    public static bool IsInside(string realPath, string realFolder)
    {
        string folder = Path.TrimEndingDirectorySeparator(realFolder);
        return realPath.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// The absolute path with every symlink in it resolved (like realpath(3)), or null for a loop or an
    /// unreadable link. Components that do not exist are kept as written.
    /// </summary>
    public static string? TryRealPath(string path)
    {
        try
        {
            string full = Path.GetFullPath(path);
            string root = Path.GetPathRoot(full) ?? "/";
            var pending = new Stack<string>(Split(full[root.Length..]).Reverse());
            string current = root;
            int hops = 0;
            while (pending.Count > 0)
            {
                string part = pending.Pop();
                if (part == ".")
                {
                    continue;
                }

                if (part == "..")
                {
                    current = Path.GetDirectoryName(current) ?? root;
                    continue;
                }

                string next = Path.Combine(current, part);
                string? target = new FileInfo(next).LinkTarget;
                if (target is null)
                {
                    current = next;
                    continue;
                }

                if (++hops > MaxLinkHops)
                {
                    return null;
                }

                if (Path.IsPathRooted(target))
                {
                    current = Path.GetPathRoot(target) ?? root;
                    target = target[current.Length..];
                }

                foreach (string t in Split(target).Reverse())
                {
                    pending.Push(t);
                }
            }

            return current;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private static string[] Split(string path) =>
        path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}

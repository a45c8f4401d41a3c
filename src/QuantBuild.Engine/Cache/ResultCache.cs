using System.Text.Json;
using System.Text.Json.Serialization;
using QuantBuild.Engine.Files;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// A folder of finished target results by content address: &lt;root&gt;/&lt;key[0..2]&gt;/&lt;key&gt;/ holds model.onnx,
/// the external-data files the model references (under the names it references them by) and entry.json (every
/// file's size and SHA-256, and the result summary). Files are hard-linked or copied, never read whole into memory;
/// a hit re-hashes them. An entry is built in a temp folder beside it and
/// renamed into place, so readers see a whole entry or none, and two builds storing the same key both succeed
/// (the second rename loses and its copy is dropped). A damaged entry is deleted on read and reported as a miss.
/// With a <see cref="Remote"/>, the local folder is the first tier: misses read through to the shared store, passed
/// results are uploaded behind the run (<see cref="Complete"/> waits for them), and <c>locks/KEY.lock</c> keeps two
/// builds on this machine from quantizing the same key at once.
/// </summary>
public sealed class ResultCache
{
    private const string ModelFile = "model.onnx";
    private const string EntryFile = "entry.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Opens (without creating) the cache at <paramref name="root"/>.</summary>
    public ResultCache(string root)
        : this(root, remote: null, log: null)
    {
    }

    /// <summary>Opens (without creating) the cache at <paramref name="root"/> in front of a shared <paramref name="remote"/> store.</summary>
    public ResultCache(string root, RemoteResultCache? remote, Serilog.ILogger? log = null)
    {
        Root = Path.GetFullPath(root);
        Remote = remote;
        Log = log ?? Serilog.Core.Logger.None;
        Locks = new KeyLocks(Path.Combine(Root, KeyLocks.Folder), remote, Log);
        RemoveStale();
    }

    /// <summary>The cache folder.</summary>
    public string Root { get; }

    /// <summary>The shared store behind this folder, or null.</summary>
    public RemoteResultCache? Remote { get; }

    /// <summary>Where the cache says what it did (restored from the remote, uploaded) and warns.</summary>
    internal Serilog.ILogger Log { get; }

    /// <summary>The per-key locks (local lock files and remote leases) the runs of this cache hold.</summary>
    internal KeyLocks Locks { get; }

    /// <summary>
    /// Ends the runs' use of the cache: waits up to <paramref name="uploadWait"/> for the uploads still under way
    /// (each failure is logged as a QB5102 warning) and releases every lock still held.
    /// </summary>
    /// <returns>How many uploads failed or did not finish.</returns>
    public int Complete(TimeSpan uploadWait)
    {
        int failed = Remote?.Complete(uploadWait) ?? 0;
        Locks.ReleaseAll();
        return failed;
    }

    /// <summary>The keys of every entry folder, in no particular order.</summary>
    public IEnumerable<string> Keys()
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }

        foreach (string shard in Directory.EnumerateDirectories(Root).Where(d => Path.GetFileName(d).Length == 2))
        {
            foreach (string folder in Directory.EnumerateDirectories(shard))
            {
                string name = Path.GetFileName(folder);
                if (name.Length == 64 && name.StartsWith(Path.GetFileName(shard), StringComparison.Ordinal) && name.All(char.IsAsciiHexDigitLower))
                {
                    yield return name;
                }
            }
        }
    }

    /// <summary>Deletes an entry (renamed aside first, so a reader never sees half of it).</summary>
    public void Delete(string key) => Evict(EntryPath(key));

    /// <summary>$QUANTBUILD_CACHE, else ~/.cache/quantbuild/results (XDG_CACHE_HOME or LOCALAPPDATA where set).</summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("QUANTBUILD_CACHE") is { Length: > 0 } configured)
        {
            return configured;
        }

        string? baseDir = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDir, "quantbuild", "results");
    }

    /// <summary>The folder of one key's entry.</summary>
    public string EntryPath(string key) => Path.Combine(Root, key[..2], key);

    /// <summary>
    /// The entry for <paramref name="key"/>, its files verified (size and SHA-256 of the model and of each external-data
    /// file, streamed); null when there is none or it was damaged or incomplete (then it is deleted).
    /// </summary>
    public CacheEntry? TryGet(string key)
    {
        string folder = EntryPath(key);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        try
        {
            if (ParseEntry(key, File.ReadAllBytes(Path.Combine(folder, EntryFile)), folder) is not { } entry || !Verify(entry))
            {
                Evict(folder);
                return null;
            }

            Touch(folder);
            return entry;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException)
        {
            Evict(folder);
            return null;
        }
    }

    /// <summary>
    /// Stores a passed target's model, the external-data files it references (<paramref name="data"/>, each kept under
    /// its file name) and its summary under <paramref name="key"/>; an existing whole entry is kept. The files are
    /// hard-linked where the cache shares the output's file system, else copied, streamed either way.
    /// </summary>
    /// <returns>The entry, or null when the cache could not be written (read-only, full disk): a cache never fails a build.</returns>
    public CacheEntry? Store(string key, string model, IReadOnlyList<string> data, TargetResult result)
    {
        string folder = EntryPath(key);
        string temp = NewTemp(key);
        try
        {
            Directory.CreateDirectory(temp);
            CacheFiles.LinkOrCopy(model, Path.Combine(temp, ModelFile));
            (string modelSha, long modelBytes) = CacheFiles.Hash(Path.Combine(temp, ModelFile));
            var files = new List<CacheFile>();
            foreach (string path in data.OrderBy(Path.GetFileName, StringComparer.Ordinal))
            {
                string name = Path.GetFileName(path);
                if (!ValidDataName(name))
                {
                    return null;
                }

                CacheFiles.LinkOrCopy(path, Path.Combine(temp, name));
                (string sha, long bytes) = CacheFiles.Hash(Path.Combine(temp, name));
                files.Add(new CacheFile(name, bytes, sha));
            }

            var entry = new CacheEntry(key, folder, ModelFile, modelSha, modelBytes, files, result);
            WriteFlushed(Path.Combine(temp, EntryFile), EntryJson(entry));
            return Commit(key, temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>A new, not yet created, temp folder beside <paramref name="key"/>'s entry, for an entry being built (a download).</summary>
    internal string NewTemp(string key) =>
        Path.Combine(Path.GetDirectoryName(EntryPath(key))!, $".tmp-{key[..12]}-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>
    /// Renames a complete entry folder built in <paramref name="temp"/> into place, unless the key already has one.
    /// </summary>
    /// <returns>The entry that then stands under the key as its entry.json describes it; null when the rename failed and none stands there.</returns>
    internal CacheEntry? Commit(string key, string temp)
    {
        string folder = EntryPath(key);
        try
        {
            if (!Directory.Exists(folder))
            {
                Directory.Move(temp, folder);
            }
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            // Another build stored the same key between our check and our rename: its entry is as good as ours.
        }

        try
        {
            return ParseEntry(key, File.ReadAllBytes(Path.Combine(folder, EntryFile)), folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when every file of <paramref name="entry"/> is there with its recorded size and SHA-256 (hashed streamed).</summary>
    internal static bool Verify(CacheEntry entry)
    {
        foreach ((string path, long bytes, string sha) in entry.Data.Select(d => (entry.PathOf(d), d.Bytes, d.Sha256)).Prepend((entry.ModelPath, entry.ModelBytes, entry.ModelSha256)))
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length != bytes || CacheFiles.Hash(path).Sha256 != sha)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>An external-data file name an entry can hold: a plain file name that is none of the entry's own files.</summary>
    internal static bool ValidDataName(string name) =>
        name.Length is > 0 and < 200 && Path.GetFileName(name) == name && name.IndexOfAny(['/', '\\', ':']) < 0 && !name.StartsWith('.')
        && name != ModelFile && name != EntryFile;

    /// <summary>
    /// Removes what killed runs left in the cache: <c>.tmp-KEY-PID-GUID</c> folders whose process is gone, and
    /// entries renamed aside for eviction (<c>KEY.bad-GUID</c>) that were never deleted.
    /// </summary>
    /// <returns>How many were removed.</returns>
    public int RemoveStale()
    {
        int removed = 0;
        try
        {
            if (!Directory.Exists(Root))
            {
                return 0;
            }

            foreach (string shard in Directory.EnumerateDirectories(Root))
            {
                foreach (string folder in Directory.EnumerateDirectories(shard))
                {
                    string name = Path.GetFileName(folder);
                    string[] parts = name.Split('-');
                    bool deadTemp = name.StartsWith(".tmp-", StringComparison.Ordinal) && parts.Length == 4 && StaleTemp.OwnerGone(parts[2]);
                    if (deadTemp || name.Contains(".bad-", StringComparison.Ordinal))
                    {
                        StaleTemp.TryDelete(folder);
                        removed++;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache never fails a build.
        }

        return removed;
    }

    /// <summary>entry.json's bytes: the key, the model's SHA-256 and size, the external-data files and the result summary.</summary>
    internal static byte[] EntryJson(CacheEntry entry) =>
        JsonSerializer.SerializeToUtf8Bytes(new StoredEntry(entry.Key, entry.ModelSha256, entry.ModelBytes, entry.Data, entry.Result), Json);

    /// <summary>The entry entry.json describes in <paramref name="folder"/>, or null when it is not one for <paramref name="key"/> (its files are not checked here).</summary>
    internal static CacheEntry? ParseEntry(string key, ReadOnlySpan<byte> json, string folder)
    {
        StoredEntry? stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredEntry>(json, Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return null;
        }

        if (stored?.Result is null || stored.Key != key || stored.ModelSha256 is not { Length: 64 } || stored.ModelBytes < 0
            || stored.Data is null || stored.Data.Any(d => d is null || !ValidDataName(d.Name) || d.Bytes < 0 || d.Sha256 is not { Length: 64 })
            || stored.Data.Select(d => d.Name).Distinct(StringComparer.Ordinal).Count() != stored.Data.Count)
        {
            return null;
        }

        return new CacheEntry(key, folder, ModelFile, stored.ModelSha256, stored.ModelBytes, stored.Data, stored.Result);
    }

    // A hit marks the entry used, so `quantbuild cache prune --older-than` removes what nobody reads, not what is old.
    private static void Touch(string folder)
    {
        try
        {
            Directory.SetLastWriteTimeUtc(folder, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only cache still serves hits.
        }
    }

    // Renamed aside first so a concurrent reader never sees a half-deleted folder under the key's name.
    private static void Evict(string folder)
    {
        string aside = folder + $".bad-{Guid.NewGuid():N}";
        try
        {
            Directory.Move(folder, aside);
        }
        catch (IOException)
        {
            return;
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }

        TryDelete(aside);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next eviction; never fails a build.
        }
    }

    private static void WriteFlushed(string path, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    private sealed record StoredEntry(string Key, string ModelSha256, long ModelBytes, IReadOnlyList<CacheFile> Data, TargetResult Result);
}

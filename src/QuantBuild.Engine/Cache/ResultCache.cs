using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using QuantBuild.Engine.Files;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// A folder of finished target results by content address: &lt;root&gt;/&lt;key[0..2]&gt;/&lt;key&gt;/ holds model.onnx
/// and entry.json (the model's SHA-256 and the result summary). An entry is built in a temp folder beside it and
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

    /// <summary>Reads the entry for <paramref name="key"/>; null when there is none or it was damaged (then it is deleted).</summary>
    public CacheEntry? TryGet(string key)
    {
        string folder = EntryPath(key);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        try
        {
            byte[] json = File.ReadAllBytes(Path.Combine(folder, EntryFile));
            byte[] model = File.ReadAllBytes(Path.Combine(folder, ModelFile));
            if (ParseEntry(key, json, model) is not { } entry)
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

    /// <summary>Stores a passed target's model and summary under <paramref name="key"/>; an existing whole entry is kept.</summary>
    /// <returns>False when the cache could not be written (read-only, full disk): a cache never fails a build.</returns>
    public bool Store(string key, ReadOnlySpan<byte> model, TargetResult result)
    {
        string folder = EntryPath(key);
        string parent = Path.GetDirectoryName(folder)!;
        string temp = Path.Combine(parent, $".tmp-{key[..12]}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temp);
            string sha = CacheKey.Hex(SHA256.HashData(model));
            WriteFlushed(Path.Combine(temp, ModelFile), model);
            WriteFlushed(Path.Combine(temp, EntryFile), EntryJson(key, sha, result));
            if (Directory.Exists(folder))
            {
                return true;
            }

            Directory.Move(temp, folder);
            return true;
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            // Another build stored the same key between our check and our rename: its entry is as good as ours.
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            TryDelete(temp);
        }
    }

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

    /// <summary>entry.json's bytes: the key, the model's SHA-256 and the result summary.</summary>
    internal static byte[] EntryJson(string key, string modelSha256, TargetResult result) =>
        JsonSerializer.SerializeToUtf8Bytes(new StoredEntry(key, modelSha256, result), Json);

    /// <summary>The entry entry.json and the model make, or null when they do not belong together or to <paramref name="key"/>.</summary>
    internal static CacheEntry? ParseEntry(string key, ReadOnlySpan<byte> json, byte[] model)
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

        return stored?.Result is null || stored.Key != key || stored.ModelSha256 != CacheKey.Hex(SHA256.HashData(model))
            ? null
            : new CacheEntry(key, model, stored.ModelSha256, stored.Result);
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

    private sealed record StoredEntry(string Key, string ModelSha256, TargetResult Result);
}

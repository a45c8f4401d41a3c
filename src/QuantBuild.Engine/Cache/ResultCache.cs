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
    {
        Root = Path.GetFullPath(root);
        RemoveStale();
    }

    /// <summary>The cache folder.</summary>
    public string Root { get; }

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
            var stored = JsonSerializer.Deserialize<StoredEntry>(File.ReadAllBytes(Path.Combine(folder, EntryFile)), Json);
            byte[] model = File.ReadAllBytes(Path.Combine(folder, ModelFile));
            if (stored?.Result is null || stored.Key != key || stored.ModelSha256 != CacheKey.Hex(SHA256.HashData(model)))
            {
                Evict(folder);
                return null;
            }

            return new CacheEntry(key, model, stored.ModelSha256, stored.Result);
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
            WriteFlushed(Path.Combine(temp, EntryFile), JsonSerializer.SerializeToUtf8Bytes(new StoredEntry(key, sha, result), Json));
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

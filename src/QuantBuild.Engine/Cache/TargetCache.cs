using System.Diagnostics;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Files;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Plugins;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// The pipeline's view of the <see cref="ResultCache"/> for one run: hashes the inputs once, restores a target's model
/// and its external data from its entry (writing a file only when its bytes differ), and stores targets that passed. A miss reads through
/// to the shared remote (a verified entry is kept locally too) and then claims the key, so a build that another one
/// (here or on another agent) is already doing waits for its result instead of doing it twice; a stored result is
/// uploaded behind the run. Safe to call for several targets at once.
/// </summary>
public sealed class TargetCache
{
    /// <summary>The stage name a lookup reports; manifests leave it out so a hit reproduces them byte for byte.</summary>
    public const string Stage = "cache";

    private readonly ResultCache _store;
    private readonly QuantizeConfig _config;
    private readonly InputHashes _inputs;
    private readonly IReadOnlyList<string>? _pluginHashes;

    private TargetCache(ResultCache store, QuantizeConfig config, InputHashes inputs, IReadOnlyList<string>? pluginHashes)
    {
        _store = store;
        _config = config;
        _inputs = inputs;
        _pluginHashes = pluginHashes;
    }

    /// <summary>SHA-256 of the model file.</summary>
    public string ModelSha256 => _inputs.ModelFile;

    /// <summary>Hashes the run's inputs. <paramref name="plugins"/> are the loaded plugins recipes run from (their code folders are hashed into every recipe target's key).</summary>
    public static TargetCache Open(ResultCache store, QuantizeConfig config, PluginHost? plugins)
    {
        InputHashes inputs = InputHashes.Compute(config, OnnxModelLoader.Load(config.ModelPath).Graph);
        IReadOnlyList<string>? pluginHashes = plugins is null ? Array.Empty<string>()
            : plugins.Plugins.Any(p => p.Sha256 is null) ? null
            // The whole code folder, not just the main assembly: a pass changed in a dependency must miss the cache.
            : plugins.Plugins.Select(p => $"{p.Name}@{p.Version}:{p.Sha256}:{PluginFiles.Hash(p.Path)}").ToList();
        return new TargetCache(store, config, inputs, pluginHashes);
    }

    /// <summary>The key of <paramref name="target"/>; null when it cannot be cached (a plugin whose hash is unknown).</summary>
    public string? KeyFor(TargetConfig target) =>
        target.Recipe.Count > 0 && _pluginHashes is null ? null
        : CacheKey.Compute(_config, target, _inputs, target.Recipe.Count > 0 ? _pluginHashes! : Array.Empty<string>());

    /// <summary>
    /// On a hit, puts the cached model and its external-data files at <paramref name="outputPath"/> and returns its
    /// summary marked cached. The order is the one a fresh run's packaging keeps: the data files first (a model never
    /// points at missing data), the model staged beside its place, then <paramref name="beforeModel"/> (the manifest;
    /// it is handed the verified entry to read instead of the output), and the model's rename last.
    /// </summary>
    /// <remarks>On a miss the key stays claimed until <see cref="Store"/> (or <see cref="ResultCache.Complete"/>) releases it.</remarks>
    public TargetResult? TryRestore(TargetConfig target, string outputPath, Action<TargetResult, CacheEntry>? beforeModel = null)
    {
        var clock = Stopwatch.StartNew();
        if (KeyFor(target) is not { } key)
        {
            return null;
        }

        CacheEntry? entry = Lookup(key, target, outputPath)
            ?? _store.Locks.Claim(key, target.Name, TimeSpan.FromSeconds(_config.Cache.LockWaitSeconds),
                () => Directory.Exists(_store.EntryPath(key)), () => Lookup(key, target, outputPath));
        if (entry is null)
        {
            return null;
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        foreach (CacheFile data in entry.Data)
        {
            using StagedFile? staged = CacheFiles.Stage(entry.PathOf(data), Path.Combine(folder, data.Name));
            staged?.Commit();
        }

        using StagedFile? model = CacheFiles.Stage(entry.ModelPath, outputPath);
        TargetResult restored = entry.Result with
        {
            Name = target.Name,
            OutputPath = outputPath,
            ManifestPath = ModelFiles.ManifestFor(outputPath),
            RejectedPath = null,
            Cached = true,
            Stages = [new StageTiming(Stage, clock.Elapsed.TotalSeconds)],
            RecordedStages = entry.Result.Stages,
        };
        beforeModel?.Invoke(restored, entry);
        model?.Commit();
        return restored;
    }

    /// <summary>Stores a target that passed (its model and any external data already written); errors and gate failures are never cached.</summary>
    public void Store(TargetConfig target, TargetResult result)
    {
        if (KeyFor(target) is not { } key)
        {
            return;
        }

        if (result.Status != TargetStatus.Passed || result.OutputPath is null)
        {
            _store.Locks.Release(key);
            return;
        }

        TargetResult summary = result with
        {
            OutputPath = null,
            ManifestPath = null,
            Cached = false,
            Stages = result.Stages.Where(s => s.Stage != Stage).ToList(),
        };
        IReadOnlyList<string> data = DataFiles(result.OutputPath, result.QuantizedBytes);
        CacheEntry? stored = _store.Store(key, result.OutputPath, data, summary);
        IRemoteLease? lease = _store.Locks.Handoff(key);
        if (_store.Remote is { } remote)
        {
            // A local cache that could not be written still lets the remote have the result, from the output's own files.
            remote.UploadBehind(stored ?? Describe(key, result.OutputPath, data, summary), target.Name, lease);
        }
    }

    /// <summary>
    /// The external-data files a written model references. Only a model smaller than its result's size has any (the
    /// size counts them), so an inline model is never parsed, and a stale .data beside it is never taken for its own.
    /// </summary>
    internal static IReadOnlyList<string> DataFiles(string modelPath, long? resultBytes)
    {
        if (resultBytes is not long total || total <= new FileInfo(modelPath).Length)
        {
            return [];
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        return InputHashes.ExternalDataLocations(OnnxModelLoader.Load(modelPath).Graph).Select(l => Path.Combine(folder, l)).ToList();
    }

    // An entry made of files outside the cache, for an upload when the local cache could not take them.
    private static CacheEntry Describe(string key, string model, IReadOnlyList<string> data, TargetResult summary)
    {
        (string sha, long bytes) = CacheFiles.Hash(model);
        var files = data.OrderBy(Path.GetFileName, StringComparer.Ordinal)
            .Select(d =>
            {
                (string dataSha, long dataBytes) = CacheFiles.Hash(d);
                return new CacheFile(Path.GetFileName(d), dataBytes, dataSha);
            }).ToList();
        return new CacheEntry(key, Path.GetDirectoryName(Path.GetFullPath(model))!, Path.GetFileName(model), sha, bytes, files, summary);
    }

    // The local folder first; then the remote, whose verified entry is renamed into the local cache so the next run needs
    // no download. An entry whose data files carry another output's name (the same settings written under another file
    // name) cannot be this output's bytes: a miss.
    private CacheEntry? Lookup(string key, TargetConfig target, string outputPath)
    {
        string dataName = Path.GetFileName(outputPath) + ".data";
        CacheEntry? entry = _store.TryGet(key) ?? Download(key, target);
        return entry is not null && entry.Data.All(d => d.Name == dataName) ? entry : null;
    }

    private CacheEntry? Download(string key, TargetConfig target)
    {
        if (_store.Remote is not { } remote)
        {
            return null;
        }

        string temp = _store.NewTemp(key);
        try
        {
            if (remote.TryGet(key, target.Name, temp) is null || _store.Commit(key, temp) is not { } local)
            {
                return null;
            }

            _store.Log.Information("{Target}: restored from the shared cache {Location}", target.Name, remote.Location);
            return local;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The local cache cannot take the download (read-only, full disk): a miss, never a failed build.
            return null;
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                try
                {
                    Directory.Delete(temp, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Left for RemoveStale.
                }
            }
        }
    }
}

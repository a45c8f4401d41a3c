using System.Diagnostics;
using System.Security.Cryptography;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Files;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Plugins;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// The pipeline's view of the <see cref="ResultCache"/> for one run: hashes the inputs once, restores a target's model
/// from its entry (writing the file only when its bytes differ), and stores targets that passed. A miss reads through
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

    /// <summary>On a hit, puts the cached model at <paramref name="outputPath"/> and returns its summary marked cached.</summary>
    /// <remarks>On a miss the key stays claimed until <see cref="Store"/> (or <see cref="ResultCache.Complete"/>) releases it.</remarks>
    public TargetResult? TryRestore(TargetConfig target, string outputPath)
    {
        var clock = Stopwatch.StartNew();
        if (KeyFor(target) is not { } key)
        {
            return null;
        }

        CacheEntry? entry = Lookup(key, target)
            ?? _store.Locks.Claim(key, target.Name, TimeSpan.FromSeconds(_config.Cache.LockWaitSeconds),
                () => Directory.Exists(_store.EntryPath(key)), () => Lookup(key, target));
        if (entry is null)
        {
            return null;
        }

        AtomicFile.WriteIfChanged(outputPath, entry.Model);
        return entry.Result with
        {
            Name = target.Name,
            OutputPath = outputPath,
            ManifestPath = ModelFiles.ManifestFor(outputPath),
            RejectedPath = null,
            Cached = true,
            Stages = [new StageTiming(Stage, clock.Elapsed.TotalSeconds)],
            RecordedStages = entry.Result.Stages,
        };
    }

    /// <summary>Stores a target that passed (its model already written); errors and gate failures are never cached.</summary>
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

        byte[] model = File.ReadAllBytes(result.OutputPath);
        TargetResult summary = result with
        {
            OutputPath = null,
            ManifestPath = null,
            Cached = false,
            Stages = result.Stages.Where(s => s.Stage != Stage).ToList(),
        };
        _store.Store(key, model, summary);
        IRemoteLease? lease = _store.Locks.Handoff(key);
        if (_store.Remote is { } remote)
        {
            remote.UploadBehind(new CacheEntry(key, model, CacheKey.Hex(SHA256.HashData(model)), summary), target.Name, lease);
        }
    }

    // The local folder first; then the remote, whose verified entry is kept locally so the next run needs no download.
    private CacheEntry? Lookup(string key, TargetConfig target)
    {
        if (_store.TryGet(key) is { } local)
        {
            return local;
        }

        if (_store.Remote?.TryGet(key, target.Name) is not { } shared)
        {
            return null;
        }

        _store.Store(key, shared.Model, shared.Result);
        _store.Log.Information("{Target}: restored from the shared cache {Location}", target.Name, _store.Remote.Location);
        return shared;
    }
}

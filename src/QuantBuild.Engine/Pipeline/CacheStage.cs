using System.Diagnostics;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Files;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// The result cache around the per-target stages: before any model work, restores every target it holds (with its
/// manifest); after a target ran, stores it when it passed. The cache itself is <see cref="TargetCache"/>.
/// </summary>
internal static class CacheStage
{
    /// <summary>The cache for this run, or null when the run does not use one.</summary>
    public static TargetCache? Open(ValidatedRun run, PluginHost? plugins) =>
        run.Options.Cache is null ? null : TargetCache.Open(run.Options.Cache, run.Config, plugins);

    /// <summary>Per target: its restored result (model and manifest in place), or null to run it; and how long each lookup took.</summary>
    public static (TargetResult?[] Hits, double[] LookupSeconds) Restore(ValidatedRun run, TargetCache? cache, PluginHost? plugins)
    {
        var hits = new TargetResult?[run.Targets.Count];
        var seconds = new double[run.Targets.Count];
        if (cache is null || !run.Options.ReadCache)
        {
            return (hits, seconds);
        }

        var source = new ManifestSource(run.Config.ModelPath, cache.ModelSha256);
        for (int i = 0; i < run.Targets.Count; i++)
        {
            var clock = Stopwatch.StartNew();
            Config.TargetConfig target = run.Targets[i];
            hits[i] = cache.TryRestore(target, run.OutputPaths[i], (hit, entry) =>
            {
                // The manifest goes in before the model's rename; its hash, widths and run-time-quantized layers are the stored
                // model's, read from the verified entry, as the run that stored it computed them.
                QuantBuild.Abstractions.Ir.Graph graph = Onnx.OnnxModelLoader.Load(entry.ModelPath).Graph;
                var written = new WrittenModel(entry.ModelSha256, WrittenWeights.Bits(graph), WrittenActivations.Dynamic(graph));
                AtomicFile.WriteTextIfChanged(hit.ManifestPath!, ManifestWriter.Render(source, target, hit, written, run.Config.Calibration, plugins?.Plugins));
            });
            seconds[i] = clock.Elapsed.TotalSeconds;
        }

        return (hits, seconds);
    }

    /// <summary>Stores a fresh target (only a pass is stored) and returns it with its cache lookup time first among its stages.</summary>
    public static TargetResult Store(TargetCache? cache, Config.TargetConfig target, TargetResult fresh, double lookupSeconds)
    {
        if (cache is null)
        {
            return fresh;
        }

        cache.Store(target, fresh);
        return fresh with { Stages = fresh.Stages.Prepend(new StageTiming(TargetCache.Stage, lookupSeconds)).ToList() };
    }
}

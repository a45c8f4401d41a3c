using System.Diagnostics;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using Serilog;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// One `quantbuild run`, as a list of named stages over plain data (each stage a class in this folder):
/// Validate → Load → Baseline → Rewrite → per target: Recipe → Plan → Calibrate → Encode → Score → Fallback → Probe →
/// Kernels → Package → Report. Targets run in parallel as far as the memory budget allows. A target that fails, even
/// on a bug, is reported and the others still run; nothing ships for a failed target and the input model is never touched.
/// </summary>
public sealed class QuantizePipeline
{
    private readonly QuantizeConfig _config;
    private readonly ILogger _log;
    private readonly PluginHost? _plugins;

    /// <summary>Creates the pipeline for a validated config (parsed once, by the caller).</summary>
    /// <param name="config">The validated config.</param>
    /// <param name="log">The run's log.</param>
    /// <param name="plugins">The plugins recipes run from; null to load the config's (and the first-party ones) for each run and unload them after.</param>
    public QuantizePipeline(QuantizeConfig config, ILogger? log = null, PluginHost? plugins = null)
    {
        _config = config;
        _log = log ?? Serilog.Core.Logger.None;
        _plugins = plugins;
    }

    /// <summary>QuantBuild's version as recorded in manifests.</summary>
    public static string ToolVersion => ToolInfo.Version;

    /// <summary>Runs the selected targets.</summary>
    public RunResult Run(PipelineOptions options, CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        ValidatedRun run = ValidateStage.Run(_config, options);
        // Plugins live for this run only: their load contexts are unloaded when it ends.
        using PluginHost? ownPlugins = _plugins is null && (run.Targets.Any(t => t.Recipe.Count > 0) || _config.UsesPluginExtensions) ? PluginHost.Load(_config) : null;
        PluginHost? plugins = _plugins ?? ownPlugins;

        // Cache hits first: when every target hits, the model is never loaded and nothing is quantized.
        TargetCache? cache = CacheStage.Open(run, plugins);
        (TargetResult?[] results, double[] lookups) = CacheStage.Restore(run, cache, plugins);
        if (cache is not null && results.All(r => r is not null))
        {
            return ReportStage.Run(run, cache.ModelSha256, results!, [], total);
        }

        var clock = new StageClock();
        using LoadedRun loaded = LoadStage.Run(run, cache?.ModelSha256, plugins, _log);
        clock.Lap(LoadStage.Name, release: false);
        EvaluationResult? baseline = BaselineStage.Run(run, loaded, _log, cancellation);
        if (baseline is not null)
        {
            clock.Lap(BaselineStage.Name, release: false);
        }

        RewriteStage.Run(loaded, _log);
        clock.Lap(RewriteStage.Name, release: false);

        var source = new ManifestSource(_config.ModelPath, loaded.Sha256);
        List<int> pending = Enumerable.Range(0, run.Targets.Count).Where(i => results[i] is null).ToList();
        // Shares are sized for every selected target, cached or not: a target's batch sizes must not depend on which others hit.
        TargetParallelism parallel = TargetParallelism.For(run.Budget.Bytes, loaded.Fp32Bytes, run.Targets.Count, options.MaxParallelTargets);
        int atOnce = Math.Min(parallel.Concurrency, pending.Count);
        if (atOnce > 1)
        {
            _log.Information("Quantizing {Targets} targets, {Parallel} at a time ({Share} MB of the budget each)", pending.Count, atOnce, parallel.ShareBytes >> 20);
        }

        TargetScheduler.Run(pending, atOnce, i =>
        {
            var target = new TargetContext(run.Targets[i], run.OutputPaths[i], run, loaded, baseline, plugins, parallel.ShareBytes,
                TargetLog.For(_log, run.Targets[i].Name, atOnce > 1), cancellation);
            results[i] = CacheStage.Store(cache, run.Targets[i], RunTarget(target, source), lookups[i]);
        });

        return ReportStage.Run(run, loaded.Sha256, results!, clock.Stages, total);
    }

    /// <summary>
    /// Re-scores the models a previous run wrote, without quantizing again: the fp32 baseline, then each selected
    /// target's file on disk through the same Score stage and gate.
    /// </summary>
    public RunResult EvaluateExisting(PipelineOptions options, CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        ValidatedRun run = ValidateStage.Run(_config, options with { WriteReports = false }, [new EvaluationRequiredValidator()]);
        using PluginHost? ownPlugins = _plugins is null && _config.UsesPluginExtensions ? PluginHost.Load(_config) : null;
        var clock = new StageClock();
        using LoadedRun loaded = LoadStage.Run(run, null, _plugins ?? ownPlugins, _log);
        clock.Lap(LoadStage.Name, release: false);
        EvaluationResult? baseline = BaselineStage.Run(run, loaded, _log, cancellation);
        clock.Lap(BaselineStage.Name, release: false);

        var results = new List<TargetResult>();
        for (int i = 0; i < run.Targets.Count; i++)
        {
            var target = new TargetContext(run.Targets[i], run.OutputPaths[i], run, loaded, baseline, null, run.Budget.Bytes, _log, cancellation);
            results.Add(Rescore(target));
        }

        return ReportStage.Run(run, loaded.Sha256, results, clock.Stages, total);
    }

    /// <summary>One target, stage by stage. Whatever happens, a result comes back: the other targets still run.</summary>
    private static TargetResult RunTarget(TargetContext t, ManifestSource source)
    {
        var clock = new StageClock();
        TargetMeasurements? known = null;
        try
        {
            t.Log.Information("Target {Target} ({Device})", t.Target.Name, t.Target.Device.Name);
            RecipeResult recipe = RecipeStage.Run(t);
            if (recipe.Ran)
            {
                clock.Lap(RecipeStage.Name);
            }

            TargetPlan plan = PlanStage.Run(t, recipe);
            clock.Lap(PlanStage.Name);

            IReadOnlyDictionary<string, TensorRange> ranges = CalibrateStage.Run(t, plan);
            clock.Lap(CalibrateStage.Name);

            Candidate candidate = EncodeStage.Run(t, plan, ranges);
            clock.Lap(EncodeStage.Name);

            GateScorer? scorer = ScoreStage.ScorerFor(t);
            ScoredCandidate scored = ScoreStage.Run(t, candidate, scorer);
            known = scored.Measurements;
            clock.Lap(ScoreStage.Name);

            if (FallbackStage.Wanted(t, scored))
            {
                scored = FallbackStage.Run(t, plan, ranges, scored, scorer!);
                known = scored.Measurements;
                clock.Lap(FallbackStage.Name);
            }

            IReadOnlyList<LayerError> layers = ProbeStage.Run(t, plan, scored);
            clock.Lap(ProbeStage.Name);

            KernelGateResult kernels = KernelGateResult.Skipped;
            if (scored.Passed)
            {
                kernels = KernelsStage.Run(t, scored);
                clock.Lap(KernelsStage.Name);
            }

            return PackageStage.Run(t, scored, layers, kernels, clock, source);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Contained(t, e, clock, known);
        }
    }

    private static TargetResult Rescore(TargetContext t)
    {
        var clock = new StageClock();
        try
        {
            if (!File.Exists(t.OutputPath))
            {
                throw new QuantBuildException("QB4003", $"Target '{t.Target.Name}' has no quantized model at {t.OutputPath}.",
                    "run `dotnet quantbuild run` for this target first", t.OutputPath);
            }

            OnnxModel quantized = OnnxModelLoader.Load(t.OutputPath);
            long bytes = new FileInfo(t.OutputPath).Length + (File.Exists(t.OutputPath + ".data") ? new FileInfo(t.OutputPath + ".data").Length : 0);
            ModelScore score = ScoreStage.ScorerFor(t)!.Score(ModelSource.File(t.OutputPath), quantized);
            t.Log.Information("{Target}: {Message}", t.Target.Name, score.Verdict.Message);
            clock.Lap(ScoreStage.Name, release: false);
            return TargetResult.Rescored(t.Target, t.Loaded.Fp32Bytes, new TargetMeasurements { QuantizedBytes = bytes, Score = score }, t.OutputPath,
                score.Passed ? null : ScoreStage.GateError(t.Config, t.Target, score.Verdict), clock.Stages);
        }
        catch (QuantBuildException e)
        {
            return TargetResult.Failed(t.Target, t.Loaded.Fp32Bytes, e, []);
        }
    }

    /// <summary>
    /// A failure stays inside its target: a QB error as it is, out of memory as QB6030, anything else as the QB0001 bug it
    /// is (with its type and message, and its stack in the log). Nothing is written for the target.
    /// </summary>
    private static TargetResult Contained(TargetContext t, Exception e, StageClock clock, TargetMeasurements? known)
    {
        TargetResult failed = e switch
        {
            QuantBuildException q => TargetResult.Failed(t.Target, t.Loaded.Fp32Bytes, q, clock.Stages.ToList(), known),
            OutOfMemoryException => TargetResult.Failed(t.Target, t.Loaded.Fp32Bytes, ResourceErrors.OutOfMemory($"target '{t.Target.Name}'", e), clock.Stages.ToList(), known),
            _ => TargetResult.Bug(t.Target, t.Loaded.Fp32Bytes, e, clock.Stages.ToList(), known),
        };
        if (failed.ErrorCode == TargetResult.BugCode)
        {
            t.Log.Error(e, "{Target}: {Error}", t.Target.Name, failed.Error);
        }
        else
        {
            t.Log.Error("{Target}: {Error}", t.Target.Name, failed.Error);
        }

        return failed;
    }
}

using System.Diagnostics;
using System.Reflection;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Reports;
using QuantBuild.Engine.Rewrites;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using Serilog;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// One `quantbuild run`, top to bottom: load → fp32 baseline → per target (calibrate → encode → evaluate → gate →
/// write → manifest) → report. Each stage is a plain call on plain data. A target that fails is reported and the
/// others still run; nothing is written for a failed target and the input model is never touched.
/// </summary>
public sealed class QuantizePipeline
{
    private readonly QuantizeConfig _config;
    private readonly ILogger _log;
    private readonly PluginHost? _plugins;

    /// <summary>Creates the pipeline for a validated config.</summary>
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
    public static string ToolVersion =>
        typeof(QuantizePipeline).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Runs the selected targets.</summary>
    public RunResult Run(PipelineOptions options, CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        IReadOnlyList<TargetConfig> targets = _config.SelectTargets(options.Targets);
        // Plugins live for this run only: their load contexts are unloaded when it ends.
        using PluginHost? ownPlugins = _plugins is null && targets.Any(t => t.Recipe.Count > 0) ? PluginHost.Load(_config) : null;
        PluginHost? plugins = _plugins ?? ownPlugins;

        // Cache hits first: when every target hits, the model is never evaluated and nothing is quantized.
        string outputDirectory = Path.GetFullPath(options.OutputDirectory ?? _config.OutputDirectory);
        TargetCache? cache = options.Cache is null ? null : TargetCache.Open(options.Cache, _config, plugins);
        var lookups = new double[targets.Count];
        var results = new TargetResult?[targets.Count];
        for (int i = 0; i < targets.Count && cache is not null && options.ReadCache; i++)
        {
            var clock = Stopwatch.StartNew();
            results[i] = cache.TryRestore(targets[i], OutputPathFor(targets[i], options, outputDirectory));
            lookups[i] = clock.Elapsed.TotalSeconds;
        }

        if (cache is not null && results.All(r => r is not null))
        {
            return Finish(cache.ModelSha256, outputDirectory, targets, results.ToList()!, new List<StageTiming>(), options, total, plugins: plugins);
        }

        // The cache has already hashed the model file; do not read it a second time for the same hash.
        (RunContext context, List<StageTiming> stages) = Prepare(options, cancellation, cache?.ModelSha256);
        using (context)
        {
            for (int i = 0; i < targets.Count; i++)
            {
                if (results[i] is null)
                {
                    TargetResult fresh = RunTarget(targets[i], context, plugins);
                    cache?.Store(targets[i], fresh);
                    results[i] = cache is null ? fresh : fresh with { Stages = fresh.Stages.Prepend(new StageTiming(TargetCache.Stage, lookups[i])).ToList() };
                }
            }

            return Finish(context.ModelSha256, context.OutputDirectory, targets, results.ToList()!, stages, options, total, plugins: plugins);
        }
    }

    /// <summary>
    /// Re-scores the models a previous run wrote, without quantizing again: the fp32 baseline, then each selected
    /// target's file on disk through the same evaluation and gate.
    /// </summary>
    public RunResult EvaluateExisting(PipelineOptions options, CancellationToken cancellation = default)
    {
        if (_config.Evaluation is null)
        {
            throw new QuantBuildException("QB4004", "The config has no evaluation section, so there is nothing to evaluate against.",
                "add evaluation: data, labels and metric to quantize.yaml", _config.ConfigPath);
        }

        var total = Stopwatch.StartNew();
        IReadOnlyList<TargetConfig> targets = _config.SelectTargets(options.Targets);
        (RunContext context, List<StageTiming> stages) = Prepare(options, cancellation);
        using (context)
        {
            var results = new List<TargetResult>();
            foreach (TargetConfig target in targets)
            {
                var clock = Stopwatch.StartNew();
                string path = OutputPathFor(target, context);
                var partial = new TargetResult { Name = target.Name, Device = target.Device.Name, Status = TargetStatus.Error, Fp32Bytes = context.Fp32Bytes };
                try
                {
                    if (!File.Exists(path))
                    {
                        throw new QuantBuildException("QB4003", $"Target '{target.Name}' has no quantized model at {path}.",
                            "run `dotnet quantbuild run` for this target first", path);
                    }

                    OnnxModel quantized = OnnxModelLoader.Load(path);
                    (TargetResult scored, _) = Score(target, context, ModelSource.File(path), quantized, partial with { QuantizedBytes = FileBytes(path) });
                    results.Add(scored with
                    {
                        OutputPath = path,
                        Stages = new[] { new StageTiming("evaluate", clock.Elapsed.TotalSeconds, PeakMemory.TakePeak()) },
                    });
                }
                catch (QuantBuildException e)
                {
                    results.Add(partial with { ErrorCode = e.Code, Error = e.ToDiagnosticString() });
                }
            }

            return Finish(context.ModelSha256, context.OutputDirectory, targets, results, stages, options with { WriteReports = false }, total, writeManifests: false);
        }
    }

    private (RunContext Context, List<StageTiming> Stages) Prepare(PipelineOptions options, CancellationToken cancellation, string? modelSha256 = null)
    {
        string outputDirectory = Path.GetFullPath(options.OutputDirectory ?? _config.OutputDirectory);
        var stages = new List<StageTiming>();

        var clock = Stopwatch.StartNew();
        MemoryBudget budget = options.MemoryBudget ?? MemoryBudget.Default();
        var workspace = RunWorkspace.Create(outputDirectory);
        OnnxModel model;
        string modelSha;
        long fp32Bytes;
        try
        {
            // External data stays in its files (mapped); a model with none has its weights moved once into the
            // workspace, so every session references one file instead of carrying its own copy, and the file's
            // buffer is freed. (Sessions reference one folder: the input's, when it has external data.)
            model = OnnxModelLoader.Load(_config.ModelPath);
            if (!InputHashes.ExternalDataLocations(model.Graph).Any())
            {
                OnnxModelSaver.Externalize(model, workspace.PathFor("fp32.weights"), InlineWeightThreshold);
            }
            modelSha = modelSha256 ?? InputHashes.HashFile(_config.ModelPath);
            fp32Bytes = ModelBytesOnDisk(model);
        }
        catch
        {
            workspace.Dispose();
            throw;
        }

        stages.Add(new StageTiming("load", clock.Elapsed.TotalSeconds, PeakMemory.TakePeak()));
        _log.Information("Loaded {Model} ({Bytes} bytes, sha256 {Sha}); memory budget {Budget}", _config.ModelPath, fp32Bytes, modelSha[..12], budget);

        IReadOnlyList<string> inputNames = ConstantInputSource.DataInputs(model, _config.Inputs);
        IDataSource calibration = ConstantInputSource.Wrap(DataSources.Open(_config.Calibration.Data, inputNames), model, _config.Inputs);
        IDataSource? evaluation = null;
        IDataSource? labels = null;
        try
        {
            evaluation = _config.Evaluation is { } e ? ConstantInputSource.Wrap(DataSources.Open(e.Data, inputNames), model, _config.Inputs) : null;
            labels = _config.Evaluation?.LabelsPath is { } l ? DataSources.OpenLabels(l) : null;
            if (labels is not null && evaluation is not null && labels.SampleCount != evaluation.SampleCount)
            {
                throw new QuantBuildException("QB1250", $"{labels.Description} holds {labels.SampleCount} labels for {evaluation.SampleCount} evaluation samples.",
                    "write one label per evaluation sample, in the same order", labels.Description);
            }

            IMetric? metric = _config.Evaluation is { } ev
                ? Metrics.Create(ev.Metric, ev.K, ev.DictionaryPath) ?? throw new QuantBuildException("QB4001", $"Unknown metric '{ev.Metric}'.", "use one of the metrics listed in docs/configuration.md")
                : null;
            string? scoredOutput = _config.Evaluation?.Output ?? model.Graph.Outputs.FirstOrDefault()?.Name;

            EvaluationResult? baseline = null;
            if (metric is not null && evaluation is not null)
            {
                clock.Restart();
                _log.Information("Evaluating fp32 on {Samples} samples", evaluation.SampleCount);
                baseline = Evaluator.Run(ModelSource.Model(model), model, evaluation, labels, metric, scoredOutput!, _config.Evaluation!.BatchSize,
                    reference: null, keepOutputs: true, DeployOptions(null), TaggedProgress.Tagged(options.Progress, "evaluate fp32"), cancellation);
                stages.Add(new StageTiming("baseline", clock.Elapsed.TotalSeconds, PeakMemory.TakePeak()));
                _log.Information("fp32 {Metric} = {Value:0.00}", metric.Name, baseline.Value);
            }

            // Targets quantize the rewritten model (opset 13, constants and BatchNorms folded); the baseline above scored the original.
            clock.Restart();
            GraphRewriteRunner.Run(model, _log);
            stages.Add(new StageTiming("rewrite", clock.Elapsed.TotalSeconds, PeakMemory.TakePeak()));
            return (new RunContext(model, modelSha, fp32Bytes, calibration, evaluation, labels, metric, scoredOutput, baseline, outputDirectory, options,
                workspace, budget, cancellation), stages);
        }
        catch
        {
            workspace.Dispose();
            calibration.Dispose();
            evaluation?.Dispose();
            labels?.Dispose();
            throw;
        }
    }

    private RunResult Finish(string modelSha256, string outputDirectory, IReadOnlyList<TargetConfig> targets, List<TargetResult> results,
        List<StageTiming> stages, PipelineOptions options, Stopwatch total, bool writeManifests = true, PluginHost? plugins = null)
    {
        var run = new RunResult
        {
            ConfigPath = _config.ConfigPath,
            ModelPath = _config.ModelPath,
            ModelSha256 = modelSha256,
            ToolVersion = ToolVersion,
            OutputDirectory = outputDirectory,
            Targets = results,
            Stages = stages,
            TotalSeconds = total.Elapsed.TotalSeconds,
        };

        if (writeManifests)
        {
            foreach ((TargetConfig target, TargetResult result) in targets.Zip(results))
            {
                if (result.ManifestPath is not null)
                {
                    string? written = result.OutputPath ?? result.RejectedPath;
                    AtomicFile.WriteTextIfChanged(result.ManifestPath, ManifestWriter.Render(run, target, result,
                        written is null ? null : InputHashes.HashFile(written), _config.Calibration, plugins?.Plugins));
                }
            }
        }

        if (options.WriteReports)
        {
            string markdown = Path.Combine(outputDirectory, "quantbuild-report.md");
            string html = Path.Combine(outputDirectory, "quantbuild-report.html");
            AtomicFile.WriteTextIfChanged(markdown, RunReport.Markdown(run));
            AtomicFile.WriteTextIfChanged(html, RunReport.Html(run));
            run = run with { ReportMarkdownPath = markdown, ReportHtmlPath = html, TotalSeconds = total.Elapsed.TotalSeconds };
        }

        return run;
    }

    private TargetResult RunTarget(TargetConfig target, RunContext run, PluginHost? plugins)
    {
        var stages = new List<StageTiming>();
        var clock = Stopwatch.StartNew();
        void Stage(string name)
        {
            ReleaseStageMemory();
            stages.Add(new StageTiming(name, clock.Elapsed.TotalSeconds, PeakMemory.TakePeak()));
            clock.Restart();
        }

        var partial = new TargetResult { Name = target.Name, Device = target.Device.Name, Status = TargetStatus.Error, Fp32Bytes = run.Fp32Bytes };
        try
        {
            _log.Information("Target {Target} ({Device})", target.Name, target.Device.Name);
            // The recipe rewrites a copy of the fp32 model and chooses weight encodings; everything after works on its result.
            OnnxModel model = run.Model;
            IReadOnlyDictionary<string, WeightEncoding> chosen = new Dictionary<string, WeightEncoding>(StringComparer.Ordinal);
            if (target.Recipe.Count > 0)
            {
                var env = new PassEnvironment
                {
                    Calibration = run.Calibration,
                    BatchSize = _config.Calibration.BatchSize,
                    MaxSamples = _config.Calibration.Samples,
                    Log = _log,
                    Progress = run.Options.Progress,
                    Cancellation = run.Cancellation,
                };
                (model, chosen) = PassRunner.Run(plugins!, target, run.Model, env);
                Stage("passes");
            }

            var encodeOptions = TargetEncoding.Options(target) with { WeightOverrides = chosen };

            IReadOnlyList<string> needed = FallbackStage.Plan(model, encodeOptions, target);
            Stage("plan");

            CalibrationResult calibrated = Calibrate(target, run, model, needed);
            Stage("calibrate");

            Dictionary<string, TensorRange> ranges = SelectRanges(calibrated, target);
            EncodeResult encoded = QdqEncoder.Encode(model, FallbackStage.Restrict(ranges, model, encodeOptions), encodeOptions);
            if (encoded.QuantizedLayers.Count == 0 && target.Recipe.Count == 0)
            {
                // The output would be the input again: that is not a pass, and timing it would waste minutes.
                throw QuantizationErrors.NothingQuantized(target.Name, encoded.UnquantizedNodes);
            }

            // The candidate is saved as it will ship (external data when over protobuf's limit) and scored from the file.
            string modelPath = OutputPathFor(target, run);
            string candidate = run.Workspace.PathFor(target.Name, Path.GetFileName(modelPath));
            OnnxModelSaver.Save(encoded.Model, candidate);
            // The encoder's new weights move to a mapped file too: the probes' sessions reference it, nothing holds them twice.
            OnnxModelSaver.Externalize(encoded.Model, run.Workspace.PathFor(target.Name, "encoded.weights"), InlineWeightThreshold);
            Stage("encode");
            var floatNodes = encoded.UnquantizedNodes.Select(n => new FloatNode(n.NodeName, n.OpType, n.Reason)).ToList();
            partial = partial with { QuantizedBytes = FileBytes(candidate), FloatNodes = floatNodes, QuantizedNodeCount = encoded.QuantizedLayers.Count };

            (partial, GateVerdict? verdict) = Score(target, run, ModelSource.File(candidate), encoded.Model, partial);
            Stage("evaluate");
            if (FallbackStage.Wanted(target, verdict))
            {
                TargetResult recipe = partial;
                (encoded, partial, verdict) = FallbackStage.Run(target, _config.ConfigPath, model, ranges, encodeOptions, encoded, partial, verdict!,
                    m => Score(target, run, ModelSource.Model(m), m, recipe), _log);
                OnnxModelSaver.Save(encoded.Model, candidate);
                OnnxModelSaver.Externalize(encoded.Model, run.Workspace.PathFor(target.Name, "fallback.weights"), InlineWeightThreshold);
                partial = partial with { QuantizedBytes = FileBytes(candidate) };
                Stage("fallback");
            }

            IReadOnlyList<LayerError> layers = LayerErrorProbe.Measure(model, encoded.Model, encoded.QuantizedLayers,
                run.Evaluation ?? run.Calibration, run.Options.LayerProbeSamples, DeployOptions(target), run.Budget.Bytes);
            Stage("layers");

            bool fast = true;
            if (verdict?.Passed ?? true)
            {
                (partial, fast) = KernelStage.Check(target, _config.ConfigPath, run.Model, ModelSource.File(candidate), run.Evaluation ?? run.Calibration,
                    _config.Evaluation?.BatchSize ?? _config.Calibration.BatchSize, partial, _log, run.Budget.Bytes);
                Stage("kernels");
            }

            bool passed = (verdict?.Passed ?? true) && fast;
            string written = passed ? modelPath : Path.Combine(run.OutputDirectory, "rejected", Path.GetFileName(modelPath));
            Publish(candidate, written);
            Stage("write");

            return partial with
            {
                Status = passed ? TargetStatus.Passed : TargetStatus.GateFailed,
                OutputPath = passed ? written : null,
                RejectedPath = passed ? null : written,
                ManifestPath = ManifestWriter.PathFor(written),
                Layers = layers,
                Stages = stages,
            };
        }
        catch (Exception e) when (e is QuantBuildException or OutOfMemoryException)
        {
            // Out of memory in one target (a capped heap, a huge model) fails that target; the others still run.
            QuantBuildException error = e as QuantBuildException ?? ResourceErrors.OutOfMemory($"target '{target.Name}'", e);
            _log.Error("{Target}: {Error}", target.Name, error.ToDiagnosticString());
            return partial with { Status = TargetStatus.Error, ErrorCode = error.Code, Error = error.ToDiagnosticString(), Stages = stages };
        }
    }

    /// <summary>
    /// What a finished stage leaves behind goes back to the OS before the next one: weights it read stay in the OS
    /// cache rather than in this process, the managed arrays it dropped (an encoded model's weights) are decommitted,
    /// and memory ONNX Runtime freed leaves the C allocator's free lists.
    /// </summary>
    private static void ReleaseStageMemory()
    {
        MappedWeights.ReleaseResidentPages();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        OrtMemory.ReleaseFreed();
    }

    /// <summary>
    /// Activation ranges for the tensors the plan needs; no forward pass at all when it needs none (weight-only
    /// formats). The batch size is the yaml's when given, else derived from the memory budget.
    /// </summary>
    private CalibrationResult Calibrate(TargetConfig target, RunContext run, OnnxModel model, IReadOnlyList<string> needed)
    {
        if (needed.Count == 0)
        {
            _log.Information("{Target}: nothing needs activation ranges; calibration skipped", target.Name);
            return CalibrationResult.Empty;
        }

        var request = new CalibrationRequest
        {
            Tensors = needed,
            BatchSize = _config.Calibration.BatchSize,
            MaxSamples = _config.Calibration.Samples,
            ActivationBudgetBytes = _config.Calibration.BatchSizeGiven ? null : ActivationBudget(run),
            // min/max is all minmax ranges read; the histogram is most of what observing costs
            Bins = _config.Calibration.Method == CalibrationMethod.MinMax ? 0 : CalibrationRequest.DefaultBins,
        };
        CalibrationResult calibrated = Calibrator.Run(model, run.Calibration, request, null, TaggedProgress.Tagged(run.Options.Progress, $"calibrate {target.Name}"), run.Cancellation);
        _log.Information("Calibrated {Tensors} tensors on {Samples} samples (batches of {Batch}) in {Seconds:0.00}s",
            needed.Count, calibrated.Samples, calibrated.BatchSize, calibrated.Elapsed.TotalSeconds);
        return calibrated;
    }

    // The budget less what the weights take once paged in; at least a quarter of it goes to activations.
    private static long ActivationBudget(RunContext run) => Math.Max(run.Budget.Bytes - run.Fp32Bytes, run.Budget.Bytes / 4);

    /// <summary>Copies the candidate (its side data file first, so the model never points at missing data) to where it ships.</summary>
    private static void Publish(string candidate, string written)
    {
        string data = candidate + ".data";
        if (File.Exists(data))
        {
            AtomicFile.CopyIfChanged(data, written + ".data");
        }

        AtomicFile.CopyIfChanged(candidate, written);
    }

    private static long FileBytes(string path) =>
        new FileInfo(path).Length + (File.Exists(path + ".data") ? new FileInfo(path + ".data").Length : 0);

    private (TargetResult Result, GateVerdict? Verdict) Score(TargetConfig target, RunContext run, ModelSource source, OnnxModel quantized, TargetResult partial)
    {
        if (run.Metric is null || run.Evaluation is null || run.Baseline is null)
        {
            return (partial, null);
        }

        // The gate scores these exact bytes: what is evaluated is what is written.
        EvaluationResult scored = Evaluator.Run(source, quantized, run.Evaluation, run.Labels, run.Metric, run.ScoredOutput!,
            _config.Evaluation!.BatchSize, run.Baseline.Outputs, keepOutputs: false, DeployOptions(target), TaggedProgress.Tagged(run.Options.Progress, $"evaluate {target.Name}"), run.Cancellation);
        GateVerdict verdict = AccuracyGate.Evaluate(run.Metric, run.Baseline.Value, scored.Value, target.Gate ?? _config.Gate);
        _log.Information("{Target}: {Message}", target.Name, verdict.Message);
        TargetResult result = partial with
        {
            Status = verdict.Passed ? TargetStatus.Passed : TargetStatus.GateFailed,
            Metric = run.Metric.Name,
            Unit = run.Metric.Unit,
            Fp32Value = run.Baseline.Value,
            QuantizedValue = scored.Value,
            Agreement = scored.Agreement,
            OutputSqnrDb = scored.Sqnr,
            GateMessage = verdict.Message,
            ErrorCode = verdict.Passed ? null : "QB4000",
            Error = verdict.Passed ? null : GateError(target, verdict),
        };
        return (result, verdict);
    }

    private string GateError(TargetConfig target, GateVerdict verdict)
    {
        GateConfig? gate = target.Gate ?? _config.Gate;
        // At the setting that failed, so an IDE jumps to the 'min' floor, not to 'max_drop' above it.
        SourceLocation where = (verdict.FailedSetting == "min" ? gate?.MinLocation : verdict.FailedSetting == "max_drop" ? gate?.MaxDropLocation : null)
            ?? gate?.Location ?? target.Location;
        return new QuantBuildException("QB4000", $"Target '{target.Name}' failed its accuracy gate: {verdict.Message}.",
            "add 'fallback: auto' to the target (trials decide which layers stay fp32), calibrate with 'method: percentile' where minmax ranges are outlier-dominated, or loosen gate.max_drop",
            _config.ConfigPath, where.Line, where.Column).ToDiagnosticString();
    }

    // Tensors at least this large leave the loaded file's buffer for the run's mapped weights file.
    private const long InlineWeightThreshold = 1024;

    private static string OutputPathFor(TargetConfig target, RunContext run) => OutputPathFor(target, run.Options, run.OutputDirectory);

    private static string OutputPathFor(TargetConfig target, PipelineOptions options, string outputDirectory) =>
        options.OutputDirectory is null ? target.OutputPath : Path.Combine(outputDirectory, Path.GetFileName(target.OutputPath));

    // Range selection and session settings live in TargetEncoding so analysis and fallback trials measure exactly
    // the model this pipeline writes.
    private Dictionary<string, TensorRange> SelectRanges(CalibrationResult calibrated, TargetConfig target) =>
        TargetEncoding.Ranges(calibrated, _config.Calibration, target.Device);

    private static SessionOptions DeployOptions(TargetConfig? target) =>
        target is null ? new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.All } : TargetEncoding.Deploy(target.Device);

    private long ModelBytesOnDisk(OnnxModel model)
    {
        long bytes = new FileInfo(_config.ModelPath).Length;
        string folder = Path.GetDirectoryName(_config.ModelPath)!;
        foreach (string location in InputHashes.ExternalDataLocations(model.Graph))
        {
            string path = Path.Combine(folder, location);
            bytes += File.Exists(path) ? new FileInfo(path).Length : 0;
        }

        return bytes;
    }

    private sealed record RunContext(OnnxModel Model, string ModelSha256, long Fp32Bytes, IDataSource Calibration, IDataSource? Evaluation, IDataSource? Labels,
        IMetric? Metric, string? ScoredOutput, EvaluationResult? Baseline, string OutputDirectory, PipelineOptions Options, RunWorkspace Workspace,
        MemoryBudget Budget, CancellationToken Cancellation) : IDisposable
    {
        public void Dispose()
        {
            Workspace.Dispose();
            Calibration.Dispose();
            Evaluation?.Dispose();
            Labels?.Dispose();
        }
    }
}

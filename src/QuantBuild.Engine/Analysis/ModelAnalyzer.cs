using System.Diagnostics;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using Serilog;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// `quantbuild analyze`: per target, calibrate once, then per quantizable layer the weight and activation outlier
/// ratios and two trials on a bounded evaluation subset — only this layer quantized, and every layer but this one —
/// plus the precision ladder and the kernel check. Answers "why does my model lose accuracy".
/// </summary>
public sealed class ModelAnalyzer
{
    private readonly QuantizeConfig _config;
    private readonly ILogger _log;

    /// <summary>Creates the analyzer for a validated config.</summary>
    public ModelAnalyzer(QuantizeConfig config, ILogger? log = null)
    {
        _config = config;
        _log = log ?? Serilog.Core.Logger.None;
    }

    /// <summary>Analyses the selected targets and writes the report.</summary>
    public AnalysisResult Run(AnalyzeOptions options, CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        IReadOnlyList<TargetConfig> targets = _config.SelectTargets(options.Targets);
        OnnxModel model = OnnxModelLoader.Load(_config.ModelPath);
        Rewrites.GraphRewriteRunner.Run(model, _log); // analyse what `run` quantizes (opset 13, BNs and constants folded)
        IReadOnlyList<string> inputs = ConstantInputSource.DataInputs(model, _config.Inputs);
        // Plugins only for a plugin's data reader or metric; analysis runs no recipe passes.
        using Plugins.PluginHost? plugins = _config.UsesPluginExtensions ? Plugins.PluginHost.Load(_config) : null;
        using IDataSource calibration = ConstantInputSource.Wrap(DataSources.Open(_config.Calibration.Data, inputs, model, plugins, _config.BaseDirectory), model, _config.Inputs);
        using IDataSource? evaluation = _config.Evaluation is { } e ? ConstantInputSource.Wrap(DataSources.Open(e.Data, inputs, model, plugins, _config.BaseDirectory), model, _config.Inputs) : null;
        using IDataSource? labels = _config.Evaluation?.LabelsPath is { } l ? DataSources.OpenLabels(l) : null;
        IMetric metric = _config.Evaluation is { } ev
            ? Metrics.Create(ev, plugins, _config.BaseDirectory) ?? throw new QuantBuildException("QB4001", $"Unknown metric '{ev.Metric}'.", "use one of the metrics listed in docs/configuration.md")
            : new SqnrMetric();
        IDataSource trialData = new SubsetDataSource(evaluation ?? calibration, options.Samples);
        IDataSource? trialLabels = evaluation is null ? null : labels;

        var results = new List<TargetAnalysis>();
        foreach (TargetConfig target in targets)
        {
            cancellation.ThrowIfCancellationRequested();
            results.Add(Analyse(target, model, calibration, trialData, trialLabels, metric, evaluation?.SampleCount ?? calibration.SampleCount, options, cancellation));
        }

        var result = new AnalysisResult { ConfigPath = _config.ConfigPath, ModelPath = _config.ModelPath, Targets = results };
        if (options.WriteReport)
        {
            string folder = Path.GetFullPath(options.OutputDirectory ?? _config.OutputDirectory);
            string markdown = Path.Combine(folder, "quantbuild-analysis.md");
            string html = Path.Combine(folder, "quantbuild-analysis.html");
            Files.AtomicFile.WriteText(markdown, AnalysisReport.Markdown(result));
            Files.AtomicFile.WriteText(html, AnalysisReport.Html(result));
            result = result with { ReportMarkdownPath = markdown, ReportHtmlPath = html };
        }

        return result with { TotalSeconds = total.Elapsed.TotalSeconds };
    }

    private TargetAnalysis Analyse(TargetConfig target, OnnxModel model, IDataSource calibration, IDataSource trialData, IDataSource? labels,
        IMetric metric, long evaluationSamples, AnalyzeOptions options, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var notes = new List<string>();
        _log.Information("Analysing target {Target} ({Device})", target.Name, target.Device.Name);
        if (target.Recipe.Count > 0)
        {
            notes.Add($"The recipe ({string.Join(", ", target.Recipe.Select(p => p.Name))}) is not run: trials use round-to-nearest weights, so they show what the recipe starts from.");
        }

        EncodeOptions baseOptions = TargetEncoding.Options(target);
        var full = QdqEncoder.Encode(model, PlanRanges(model, baseOptions), baseOptions);
        List<(QuantizedLayer Layer, Node Node)> layers = Layers(model, full.QuantizedLayers, notes);
        if (layers.Count == 0)
        {
            throw new QuantBuildException(AnalysisErrors.NothingToAnalyse, $"Target '{target.Name}' has no layer the encoder quantizes.",
                "check exclude and the device profile's integer ops; `quantbuild inspect` lists the quantizable nodes", _config.ConfigPath, target.Location.Line, target.Location.Column);
        }

        // One calibration pass observes everything any trial needs: the union of every trial's plan (with the 8-bit
        // fallback for 4-bit recipes) and every layer's input and output for the activation statistics.
        var names = layers.Select(l => l.Node.Name!).ToList();
        var trials = new List<(EncodeOptions Only, EncodeOptions Left)>();
        foreach ((_, Node node) in layers)
        {
            var others = new HashSet<string>(baseOptions.ExcludedNodeNames, StringComparer.Ordinal);
            others.UnionWith(names.Where(n => n != node.Name));
            var self = new HashSet<string>(baseOptions.ExcludedNodeNames, StringComparer.Ordinal) { node.Name! };
            trials.Add((baseOptions with { ExcludedNodeNames = others }, baseOptions with { ExcludedNodeNames = self }));
        }

        var tensors = TargetEncoding.PlanWithEightBitFallback(model, baseOptions).ToList();
        tensors.AddRange(trials.SelectMany(t => QdqEncoder.Plan(model, t.Only).Concat(QdqEncoder.Plan(model, t.Left))));
        tensors.AddRange(layers.SelectMany(l => new[] { l.Node.Inputs[0], l.Node.Outputs[0] }));
        CalibrationResult calibrated = Calibrator.Run(model, calibration,
            new CalibrationRequest
            {
                Tensors = tensors.Distinct(StringComparer.Ordinal).ToList(),
                BatchSize = _config.Calibration.BatchSize,
                MaxSamples = _config.Calibration.Samples,
                ActivationBudgetBytes = _config.Calibration.BatchSizeGiven ? null : (options.MemoryBudget ?? MemoryBudget.Default()).Bytes / 2,
                ExactHistogramValues = CalibrationRequest.HistogramValues(_config.Calibration.ExactHistogram),
            },
            null, TaggedProgress.Tagged(options.Progress, $"calibrate {target.Name}"), cancellation);
        Dictionary<string, TensorRange> ranges = TargetEncoding.Ranges(calibrated, _config.Calibration, target.Device);
        // What calibration could not observe (a Loop/Scan body tensor whose shape changes between iterations, a tensor
        // empty on every batch): every trial's encoder gives the nodes that needed it that reason, as `run` does.
        baseOptions = baseOptions with { Unobserved = calibrated.Unobserved };
        trials = trials.Select(t => (t.Only with { Unobserved = calibrated.Unobserved }, t.Left with { Unobserved = calibrated.Unobserved })).ToList();

        var runner = new TrialRunner(model, ranges, trialData, labels, metric, _config.Evaluation?.Output ?? model.Graph.Outputs[0].Name,
            _config.Evaluation?.BatchSize ?? _config.Calibration.BatchSize, TargetEncoding.Deploy(target.Device), target.Gate ?? _config.Gate);
        if (trialData.SampleCount < evaluationSamples)
        {
            notes.Add($"Trials ran on the first {trialData.SampleCount} of {evaluationSamples} evaluation samples (--samples); `run` gates on all of them.");
        }

        (TrialResult all, EncodeResult allEncoded) = runner.Run(baseOptions);
        // A layer the calibrated encode leaves fp32 (no range for its input) has no trial to run: it is listed with its
        // reason among the fp32 nodes instead.
        var quantizedNames = new HashSet<string>(allEncoded.QuantizedLayers.Select(l => l.NodeName), StringComparer.Ordinal);
        List<int> analysable = Enumerable.Range(0, layers.Count).Where(i => quantizedNames.Contains(layers[i].Layer.NodeName)).ToList();
        layers = analysable.Select(i => layers[i]).ToList();
        trials = analysable.Select(i => trials[i]).ToList();
        int steps = 2 * layers.Count + (options.Ladder ? 23 : 0);
        int done = 0;
        TargetEncoding.WeightSource weights = TargetEncoding.Weights(model);
        var analysed = new List<LayerAnalysis>();
        for (int i = 0; i < layers.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            TrialResult only = runner.Run(trials[i].Only).Result;
            options.Progress?.Report(new StageProgress($"analyse {target.Name}", ++done, steps));
            TrialResult left = runner.Run(trials[i].Left).Result;
            options.Progress?.Report(new StageProgress($"analyse {target.Name}", ++done, steps));
            analysed.Add(Describe(layers[i].Layer, layers[i].Node, weights, calibrated, only, left));
        }

        List<LayerAnalysis> ordered = analysed
            .OrderByDescending(a => a.OnlyQuantized.Drop)
            .ThenBy(a => a.OnlyQuantized.SqnrDb)
            .ThenBy(a => a.Node, StringComparer.Ordinal)
            .Select((a, i) => a with { Rank = i + 1 })
            .ToList();

        var ladder = new List<LadderPoint>();
        if (options.Ladder)
        {
            for (int m = 23; m >= 1; m--)
            {
                cancellation.ThrowIfCancellationRequested();
                OnnxModel rounded = MantissaTruncation.Apply(model, m);
                TrialResult r = runner.Score(rounded);
                ladder.Add(new LadderPoint(m, r.Value, r.Drop, r.SqnrDb));
                options.Progress?.Report(new StageProgress($"analyse {target.Name}", ++done, steps));
            }
        }

        KernelCheckResult? kernels = null;
        if (options.KernelCheck)
        {
            kernels = CheckKernels(target, model, allEncoded.Model, trialData, notes);
        }

        return new TargetAnalysis
        {
            Target = target.Name,
            Device = target.Device.Name,
            WeightBits = target.Weights.Bits,
            Metric = metric.Name,
            Unit = metric.Unit,
            TrialSamples = runner.Samples,
            EvaluationSamples = evaluationSamples,
            CalibrationSamples = calibrated.Samples,
            Fp32Value = runner.Baseline.Value,
            AllQuantized = all,
            Layers = ordered,
            Ladder = ladder,
            Kernels = kernels,
            Unobserved = calibrated.Unobserved,
            FloatNodes = allEncoded.UnquantizedNodes.Select(n => new Results.FloatNode(n.NodeName, n.OpType, n.Reason)).ToList(),
            Notes = notes,
            Trials = runner.Trials,
            Seconds = clock.Elapsed.TotalSeconds,
        };
    }

    private KernelCheckResult? CheckKernels(TargetConfig target, OnnxModel model, OnnxModel quantized, IDataSource data, List<string> notes)
    {
        try
        {
            KernelCheckResult k = KernelCheck.Run(ModelSource.Model(model), ModelSource.Model(quantized), model, data,
                _config.Evaluation?.BatchSize ?? _config.Calibration.BatchSize, target.Device.Deployment.SessionConfig);
            if (!k.Faster)
            {
                notes.Add($"{AnalysisErrors.NotFaster}: the quantized model is not faster than fp32 here ({k.QuantizedMilliseconds:0.00} ms vs {k.Fp32Milliseconds:0.00} ms per batch).");
            }

            return k;
        }
        catch (Exception e) when (e is QuantBuildException or IOException or InvalidOperationException)
        {
            notes.Add($"{AnalysisErrors.KernelCheckFailed}: the kernel check could not run: {e.Message}");
            return null;
        }
    }

    private static LayerAnalysis Describe(QuantizedLayer layer, Node node, TargetEncoding.WeightSource weights, CalibrationResult calibrated, TrialResult only, TrialResult left)
    {
        string weightName = node.Inputs[1];
        (float[] w, long[] dims) = weights(weightName);
        int axis = layer.WeightAxis;
        double[] ratios = OutlierStatistics.ChannelRatios(w, dims, axis);
        int worst = 0;
        for (int c = 1; c < ratios.Length; c++)
        {
            if (ratios[c] > ratios[worst])
            {
                worst = c;
            }
        }

        TensorObserver? input = calibrated.Observers.GetValueOrDefault(node.Inputs[0]);
        TensorObserver? output = calibrated.Observers.GetValueOrDefault(node.Outputs[0]);
        return new LayerAnalysis
        {
            Node = layer.NodeName,
            OpType = layer.OpType,
            Weight = weightName,
            WeightElements = w.LongLength,
            WeightMin = w.Length == 0 ? 0 : w.Min(),
            WeightMax = w.Length == 0 ? 0 : w.Max(),
            WeightWorstChannel = worst,
            WeightWorstRatio = ratios.Length == 0 ? 1 : ratios[worst],
            WeightMedianRatio = OutlierStatistics.Median(ratios),
            Input = node.Inputs[0],
            ActivationMin = input is { Count: > 0 } ? input.Min : double.NaN,
            ActivationMax = input is { Count: > 0 } ? input.Max : double.NaN,
            ActivationRatio = input is null ? double.NaN : OutlierStatistics.ActivationRatio(input),
            OutputRatio = output is null ? double.NaN : OutlierStatistics.ActivationRatio(output),
            OnlyQuantized = only,
            LeftFp32 = left,
        };
    }

    private static List<(QuantizedLayer, Node)> Layers(OnnxModel model, IReadOnlyList<QuantizedLayer> quantized, List<string> notes)
    {
        // Layers of If branches and Loop/Scan bodies too: trials exclude them by name like the main graph's.
        var byName = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach ((Node node, _) in Branches.Nodes(model))
        {
            byName.TryAdd(node.DisplayName, node);
        }

        var list = new List<(QuantizedLayer, Node)>();
        foreach (QuantizedLayer layer in quantized)
        {
            if (layer.Weight is null || !byName.TryGetValue(layer.NodeName, out Node? node))
            {
                continue;
            }

            if (string.IsNullOrEmpty(node.Name))
            {
                notes.Add($"{layer.NodeName} has no node name, so it cannot be excluded on its own and is left out of the per-layer trials.");
                continue;
            }

            list.Add((layer, node));
        }

        return list;
    }

    // Ranges are unknown before calibration; planning only needs a placeholder so the full encode lists the layers.
    private static Dictionary<string, TensorRange> PlanRanges(OnnxModel model, EncodeOptions options) =>
        TargetEncoding.PlanWithEightBitFallback(model, options).ToDictionary(t => t, _ => new TensorRange(-1f, 1f), StringComparer.Ordinal);
}

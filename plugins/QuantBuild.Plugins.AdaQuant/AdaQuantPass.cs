using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// <c>adaquant</c>: per Conv, Gemm and MatMul, choose the integer weights that minimise the layer's output error
/// ||W·X − Ŵ·X||² on calibration inputs — by learned rounding (AdaRound) or learned values and scales (AdaQuant) —
/// from the layer's second moments H = Σxxᵀ, so a step costs O(out·in²) whatever the number of samples. The chosen
/// codes are recorded as weight encodings, which the encoder writes verbatim; with bias correction the layer's bias
/// is rewritten in the model to absorb the mean error. The fp32 weights stay in the model (the encoder replaces them).
/// </summary>
public sealed class AdaQuantPass : QuantizationPass<AdaQuantOptions>
{
    /// <inheritdoc />
    public override string Name => "adaquant";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> SupportedOps => ["Conv", "Gemm", "MatMul"];

    /// <summary>What the last run did per layer (for tests and benchmarks in the same process).</summary>
    internal IReadOnlyList<LayerReport> LastReport { get; private set; } = [];

    /// <inheritdoc />
    public override void Run(IPassContext context, AdaQuantOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        int bits = options.Bits ?? context.Weights.Bits;
        bool perGroup = (options.Granularity ?? (context.Weights.BlockSize is not null ? AdaQuantGranularity.PerGroup : AdaQuantGranularity.PerChannel)) == AdaQuantGranularity.PerGroup;
        int groupSize = options.GroupSize ?? context.Weights.BlockSize ?? 32;
        bool shared = !context.Device.Kernels.PerChannelWeights || !context.Weights.PerChannel;
        if (perGroup && shared)
        {
            throw new QuantBuildException("QB2301", $"adaquant: per-group scales need per-channel weight scales, which target '{context.TargetName}' does not use.",
                "remove 'granularity: per_group' or use a device profile with per-channel weights");
        }

        SolverRule.Check(options);
        Graph graph = context.Model.Graph;
        var graphIndex = new GraphIndex(context.Model);
        List<LayerShape> layers = SelectLayers(context, graphIndex, options);
        if (layers.Count == 0)
        {
            context.Log.Warning("no Conv, Gemm or MatMul with a constant float weight matched: nothing optimised");
            return;
        }

        List<string> graphInputs = graph.Inputs.Select(v => v.Name).Where(n => n.Length > 0 && !graph.Initializers.Any(t => t.Name == n)).ToList();
        var wanted = new List<string>(layers.Select(l => l.Linear.Input));
        if (options.Sequential)
        {
            wanted.AddRange(graphInputs);
        }

        IReadOnlyDictionary<string, DenseTensor> fp = context.CaptureActivations(wanted.Distinct(StringComparer.Ordinal).ToList(), options.Samples);
        var fedInputs = graphInputs.ToDictionary(n => n, n => fp.TryGetValue(n, out DenseTensor? t) ? t : null!, StringComparer.Ordinal);
        var fakeWeights = new Dictionary<string, TensorValue>(StringComparer.Ordinal);
        DateTime? end = options.TimeBudgetSeconds > 0 ? DateTime.UtcNow.AddSeconds(options.TimeBudgetSeconds) : null;
        double remainingCost = layers.Sum(Cost);
        var report = new List<LayerReport>();
        for (int li = 0; li < layers.Count; li++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            LayerShape layer = layers[li];
            var layerClock = Stopwatch.StartNew();
            string input = layer.Linear.Input;
            DenseTensor xf = fp[input];
            DenseTensor xq = xf;
            if (options.Sequential && fakeWeights.Count > 0)
            {
                xq = context.Runner.Run(ModelClone.WithConstants(context.Model, fakeWeights), fedInputs, [input])[input];
            }

            bool centered = options.BiasCorrection && layer.Linear.CanHaveBias && layer.Linear.Beta != 0f;
            var moments = new Moments(layer.K, layer.Groups, !ReferenceEquals(xq, xf));
            layer.Accumulate(xq, xf, moments, context.Cancellation);
            double statsSeconds = layerClock.Elapsed.TotalSeconds;
            float[] w = layer.Matrix();
            var objective = LayerObjective.Build(moments, w, layer.Rows, centered);
            bool layerGroups = perGroup && !layer.Linear.IsConv;
            if (perGroup && !layerGroups)
            {
                context.Log.Information($"{layer.Name}: per-group scales are for MatMul and Gemm; this Conv gets per-channel scales");
            }

            Grid grid = Grid.For(WeightGrid.For(context.Device, bits), layer.K, layerGroups ? groupSize : null, shared);
            DateTime? deadline = null;
            if (end is { } e)
            {
                double left = Math.Max(0, (e - DateTime.UtcNow).TotalSeconds);
                deadline = DateTime.UtcNow.AddSeconds(left * Cost(layer) / Math.Max(remainingCost, 1));
            }

            remainingCost -= Cost(layer);
            int index = li;
            var settings = new OptimizerSettings
            {
                Mode = options.Mode,
                Iterations = options.Iterations,
                LearningRate = options.LearningRate,
                Regularization = options.Regularization,
                Warmup = options.Warmup,
                ScaleSearch = options.ScaleSearch,
                Solver = options.Solver,
                ActOrder = options.ActOrder,
                Damping = options.Damping,
                BudgetSeconds = options.TimeBudgetSeconds > 0 ? options.TimeBudgetSeconds * Cost(layer) / layers.Sum(Cost) : null,
                LayerName = layer.Name,
                Deadline = deadline,
                Cancellation = context.Cancellation,
                Progress = (done, total) => context.Progress.Report(new StageProgress($"adaquant {layer.Name} ({index + 1}/{layers.Count})", done, total)),
            };
            LayerSolution solution = RoundingOptimizer.Solve(objective, grid, settings);
            Record(context, layer, grid, solution, layerGroups, options.Mode);
            float[] biasDelta = centered ? solution.BiasDelta : [];
            if (centered)
            {
                ApplyBias(graphIndex, layer, biasDelta);
            }

            if (options.Sequential)
            {
                fakeWeights[layer.Linear.WeightName] = Dequantized(layer, grid, solution);
            }

            double n = Math.Max(1, objective.N) * layer.Rows;
            var r = new LayerReport(layer.Name, layer.OpType, layer.Rows, layer.K, objective.N, solution.NearestLoss.Sum() / n, solution.Loss.Sum() / n,
                solution.Improved, solution.IterationsRun, solution.StoppedEarly, statsSeconds, layerClock.Elapsed.TotalSeconds);
            report.Add(r);
            context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                $"{r.Layer} ({r.OpType} {r.Rows}×{r.K}, {r.N} input rows): output MSE {r.NearestMse:G4} nearest → {r.Mse:G4} {solution.Solver} ({r.Rows - r.Improved} of {r.Rows} channels kept their start), {solution.Detail}, H {r.StatsSeconds:0.00} s, total {r.Seconds:0.00} s"));
            if (solution.StoppedEarly)
            {
                context.Log.Warning($"{layer.Name}: time budget reached after {solution.IterationsRun} of {options.Iterations} iterations; kept the best codes found so far");
            }

            context.Progress.Report(new StageProgress("adaquant layers", li + 1, layers.Count));
        }

        LastReport = report;
        context.Log.Information(string.Create(CultureInfo.InvariantCulture,
            $"{layers.Count} layers to {bits}-bit {(perGroup ? $"groups of {groupSize}" : shared ? "per-tensor" : "per-channel")} {options.Mode.ToString().ToLowerInvariant()}{(options.Sequential ? ", sequential" : string.Empty)} in {clock.Elapsed.TotalSeconds:0.0} s"));
    }

    private static double Cost(LayerShape l) => (double)l.Rows * l.K * l.K;

    private static List<LayerShape> SelectLayers(IPassContext context, GraphIndex index, AdaQuantOptions options)
    {
        var selector = new LayerSelector(LinearLayer.OpTypes, options.Layers, options.Exclude);
        selector.Check(index.Graph, "adaquant", "QB2302");
        var layers = new List<LayerShape>();
        foreach (Node node in index.Graph.Nodes)
        {
            if (!selector.Selects(node) || node.Inputs.Count < 2)
            {
                continue;
            }

            string name = node.Inputs[1];
            if (!index.IsFloatConstant(name))
            {
                context.Log.Debug($"{node.DisplayName}: weight '{name}' is not a float constant; left to the encoder");
                continue;
            }

            if (index.UseCount(name) > 1)
            {
                context.Log.Information($"{node.DisplayName}: weight '{name}' is shared by several nodes; left to the encoder");
                continue;
            }

            if (LayerShape.TryCreate(index, node, out string? why) is { } shape)
            {
                layers.Add(shape);
            }
            else
            {
                context.Log.Information($"{node.DisplayName}: {why}; left to the encoder");
            }
        }

        return layers;
    }

    private static void Record(IPassContext context, LayerShape layer, Grid grid, LayerSolution s, bool perGroup, AdaQuantMode mode)
    {
        int k = layer.K, nb = grid.Blocks(k);
        var codes = new int[(long)layer.Rows * k];
        for (int o = 0; o < layer.Rows; o++)
        {
            for (int j = 0; j < k; j++)
            {
                codes[layer.Index(o, j)] = s.Codes[(long)o * k + j];
            }
        }

        float[] scales;
        int? axis;
        int? blockSize = null;
        if (grid.SharedScale)
        {
            scales = [s.Scales[0]];
            axis = null;
        }
        else if (perGroup && nb > 1)
        {
            scales = new float[layer.Rows * nb];
            for (int o = 0; o < layer.Rows; o++)
            {
                for (int b = 0; b < nb; b++)
                {
                    scales[layer.Transposed ? b * layer.Rows + o : o * nb + b] = s.Scales[o * nb + b];
                }
            }

            axis = layer.Transposed ? 0 : 1;
            blockSize = grid.BlockSize;
        }
        else
        {
            scales = new float[layer.Rows];
            for (int o = 0; o < layer.Rows; o++)
            {
                scales[o] = s.Scales[o * nb];
            }

            axis = layer.OutputAxis;
        }

        ElementType type = blockSize is not null && grid.Bits <= 4 ? ElementType.Int4 : ElementType.Int8;
        context.SetWeightEncoding(layer.Linear.WeightName, new WeightEncoding
        {
            Bits = grid.Bits,
            Type = type,
            Axis = axis,
            BlockSize = blockSize,
            Scales = scales,
            Codes = codes,
            Origin = $"adaquant ({s.Solver})",
        });
    }

    private static TensorValue Dequantized(LayerShape layer, Grid grid, LayerSolution s)
    {
        int k = layer.K, nb = grid.Blocks(k);
        var values = new float[(long)layer.Rows * k];
        for (int o = 0; o < layer.Rows; o++)
        {
            for (int j = 0; j < k; j++)
            {
                values[layer.Index(o, j)] = s.Dequantized(o, j, k, grid.BlockSize, nb);
            }
        }

        return TensorValue.FromFloats(layer.Linear.WeightName, values, layer.Linear.WeightDims);
    }

    // b̂ = b + Δ/β: rewrites the bias constant where it lives (a private copy when another node reads it), or adds one.
    private static void ApplyBias(GraphIndex index, LayerShape layer, float[] delta)
    {
        LinearLayer linear = layer.Linear;
        float beta = linear.Beta;
        string? name = linear.BiasName;
        var values = new float[layer.Rows];
        long[] dims = [layer.Rows];
        if (name is not null)
        {
            if (index.FloatConstant(name, out dims) is not { } old || old.Length != layer.Rows)
            {
                return;
            }

            old.CopyTo(values, 0);
        }

        for (int o = 0; o < layer.Rows; o++)
        {
            values[o] += delta[o] / beta;
        }

        if (name is null)
        {
            string fresh = index.AddInitializer(linear.WeightName + "_adaquant_bias", values, layer.Rows);
            while (linear.Node.Inputs.Count < 3)
            {
                linear.Node.Inputs.Add(string.Empty);
            }

            linear.Node.Inputs.Replace(2, fresh);
            index.Refresh();
        }
        else if (index.UseCount(name) > 1 || index.IsGraphOutput(name))
        {
            index.ReplaceConstantInput(linear.Node, 2, values, dims, "adaquant_bias");
        }
        else
        {
            index.SetConstant(name, TensorValue.FromFloats(name, values, dims));
        }
    }
}

/// <summary>One layer's result: output MSE per output element before (nearest) and after, and where the time went.</summary>
internal sealed record LayerReport(string Layer, string OpType, int Rows, int K, long N, double NearestMse, double Mse, int Improved, int Iterations,
    bool StoppedEarly, double StatsSeconds, double Seconds);

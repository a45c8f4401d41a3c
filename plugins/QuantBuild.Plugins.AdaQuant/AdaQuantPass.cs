using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

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
        List<LayerShape> layers = SelectLayers(context, options);
        if (layers.Count == 0)
        {
            context.Log.Warning("no Conv, Gemm or MatMul with a constant float weight matched: nothing optimised");
            return;
        }

        List<string> graphInputs = GraphInputs(graph);
        var wanted = new List<string>(layers.Select(l => l.Node.Inputs[0]));
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
            string input = layer.Node.Inputs[0];
            DenseTensor xf = fp[input];
            DenseTensor xq = xf;
            if (options.Sequential && fakeWeights.Count > 0)
            {
                xq = context.Runner.Run(WithWeights(context.Model, fakeWeights), fedInputs, [input])[input];
            }

            bool centered = options.BiasCorrection && layer.CanHaveBias && GemmBeta(layer) != 0f;
            var moments = new Moments(layer.K, layer.Groups, !ReferenceEquals(xq, xf));
            layer.Accumulate(xq, xf, moments, context.Cancellation);
            double statsSeconds = layerClock.Elapsed.TotalSeconds;
            float[] w = layer.Matrix();
            var objective = LayerObjective.Build(moments, w, layer.Rows, centered);
            bool layerGroups = perGroup && layer.Node.OpType != "Conv";
            if (perGroup && !layerGroups)
            {
                context.Log.Information($"{layer.Name}: per-group scales are for MatMul and Gemm; this Conv gets per-channel scales");
            }

            Grid grid = MakeGrid(context, bits, layer.K, layerGroups ? groupSize : null, shared);
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
                ApplyBias(context.Model, layer, biasDelta);
            }

            if (options.Sequential)
            {
                fakeWeights[layer.Weight.Name!] = Dequantized(layer, grid, solution);
            }

            double n = Math.Max(1, objective.N) * layer.Rows;
            var r = new LayerReport(layer.Name, layer.Node.OpType, layer.Rows, layer.K, objective.N, solution.NearestLoss.Sum() / n, solution.Loss.Sum() / n,
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

    private static float GemmBeta(LayerShape l) => l.Node.OpType == "Gemm" ? l.Node.FindAttribute("beta")?.Float ?? 1f : 1f;

    private static Grid MakeGrid(IPassContext context, int bits, int k, int? blockSize, bool shared)
    {
        Grid grid = Grid.Signed(bits, k, blockSize, shared);
        // 8-bit weights on reduce-range devices (AVX2 without VNNI) keep to 7 bits, as the built-in encoder does.
        return bits == 8 && context.Device.Kernels.ReduceRange ? grid with { QMin = -64, QMax = 63 } : grid;
    }

    private static List<string> GraphInputs(Graph graph)
    {
        var initializers = new HashSet<string>(graph.Initializers.Select(t => t.Name ?? string.Empty), StringComparer.Ordinal);
        return graph.Inputs.Select(v => v.Name ?? string.Empty).Where(n => n.Length > 0 && !initializers.Contains(n)).ToList();
    }

    /// <summary>
    /// Refuses names in <c>layers</c> that are neither a node of the model nor an op type the pass optimises: a typo
    /// would otherwise leave every layer at plain round-to-nearest without a word.
    /// </summary>
    private static void CheckLayerNames(Graph graph, string[] layers)
    {
        var known = new HashSet<string>(graph.Nodes.Select(n => n.Name).OfType<string>(), StringComparer.Ordinal) { "Conv", "Gemm", "MatMul" };
        string[] unknown = layers.Where(l => !known.Contains(l)).ToArray();
        if (unknown.Length > 0)
        {
            List<string> examples = graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Name is not null).Select(n => n.Name!).ToList();
            throw new QuantBuildException("QB2302",
                $"adaquant: layers names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which is neither a node of the model nor one of Conv, Gemm, MatMul.",
                $"use node names as `quantbuild inspect` lists them ({string.Join(", ", examples.Take(6))}{(examples.Count > 6 ? ", …" : string.Empty)}) or op types");
        }
    }

    private static List<LayerShape> SelectLayers(IPassContext context, AdaQuantOptions options)
    {
        Graph graph = context.Model.Graph;
        CheckLayerNames(graph, options.Layers);
        var initializers = new Dictionary<string, TensorValue>(StringComparer.Ordinal);
        foreach (TensorValue t in graph.Initializers)
        {
            if (t.Name is not null)
            {
                initializers[t.Name] = t;
            }
        }

        var inputs = new HashSet<string>(graph.Inputs.Select(v => v.Name ?? string.Empty), StringComparer.Ordinal);
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Node node in graph.Nodes)
        {
            foreach (string i in node.Inputs)
            {
                uses[i] = uses.GetValueOrDefault(i) + 1;
            }
        }

        var wanted = new HashSet<string>(options.Layers, StringComparer.Ordinal);
        var layers = new List<LayerShape>();
        foreach (Node node in graph.Nodes)
        {
            if (!node.IsDefaultDomain || node.OpType is not ("Conv" or "Gemm" or "MatMul") || node.Inputs.Count < 2)
            {
                continue;
            }

            if (wanted.Count > 0 && !wanted.Contains(node.OpType) && !(node.Name is { } n && wanted.Contains(n)))
            {
                continue;
            }

            string name = node.Inputs[1];
            if (!initializers.TryGetValue(name, out TensorValue? weight) || weight.ElementType != ElementType.Float || inputs.Contains(name)
                || weight.Data.Length == 0)
            {
                context.Log.Debug($"{node.DisplayName}: weight '{name}' is not a float initializer; left to the encoder");
                continue;
            }

            if (uses.GetValueOrDefault(name) > 1)
            {
                context.Log.Information($"{node.DisplayName}: weight '{name}' is shared by several nodes; left to the encoder");
                continue;
            }

            if (LayerShape.TryCreate(node, weight, out string? why) is { } shape)
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
        context.SetWeightEncoding(layer.Weight.Name!, new WeightEncoding
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

        return TensorValue.FromFloats(layer.Weight.Name!, values, layer.Weight.Dims);
    }

    // b̂ = b + Δ: rewrites the bias initializer (a private copy when another node shares it), or adds one.
    private static void ApplyBias(OnnxModel model, LayerShape layer, float[] delta)
    {
        Graph graph = model.Graph;
        float beta = GemmBeta(layer);
        string? name = layer.BiasName;
        TensorValue? old = name is null ? null : graph.Initializers.FirstOrDefault(t => t.Name == name);
        if (name is not null && (old is null || old.ElementType != ElementType.Float || old.ElementCount != layer.Rows))
        {
            return;
        }

        var values = new float[layer.Rows];
        old?.AsReadOnlySpan<float>().CopyTo(values);
        for (int o = 0; o < layer.Rows; o++)
        {
            values[o] += delta[o] / beta;
        }

        bool sharedBias = name is not null && graph.Nodes.Count(n => n.Inputs.Contains(name)) > 1;
        if (name is null || sharedBias)
        {
            var taken = new HashSet<string>(graph.Initializers.Select(t => t.Name ?? string.Empty).Concat(graph.Nodes.SelectMany(n => n.Outputs)), StringComparer.Ordinal);
            string baseName = layer.Weight.Name + "_adaquant_bias";
            string fresh = baseName;
            for (int i = 1; taken.Contains(fresh); i++)
            {
                fresh = baseName + "_" + i.ToString(CultureInfo.InvariantCulture);
            }

            graph.Initializers.Add(TensorValue.FromFloats(fresh, values, layer.Rows));
            while (layer.Node.Inputs.Count < 3)
            {
                layer.Node.Inputs.Add(string.Empty);
            }

            layer.Node.Inputs.Replace(2, fresh);
            return;
        }

        int at = graph.Initializers.IndexOf(old!);
        graph.Initializers.Replace(at, TensorValue.FromFloats(name, values, old!.Dims));
    }

    // A shallow copy of the model whose listed initializers are replaced (the fake-quantized weights).
    private static OnnxModel WithWeights(OnnxModel model, Dictionary<string, TensorValue> replaced)
    {
        var copy = new OnnxModel
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            Graph = new Graph { Name = model.Graph.Name },
        };
        copy.OpsetImports.AddRange(model.OpsetImports);
        copy.Functions.AddRange(model.Functions);
        Graph g = copy.Graph;
        g.Nodes.AddRange(model.Graph.Nodes);
        g.Inputs.AddRange(model.Graph.Inputs);
        g.Outputs.AddRange(model.Graph.Outputs);
        g.ValueInfo.AddRange(model.Graph.ValueInfo);
        g.SparseInitializers.AddRange(model.Graph.SparseInitializers);
        foreach (TensorValue t in model.Graph.Initializers)
        {
            g.Initializers.Add(t.Name is not null && replaced.TryGetValue(t.Name, out TensorValue? r) ? r : t);
        }

        return copy;
    }
}

/// <summary>One layer's result: output MSE per output element before (nearest) and after, and where the time went.</summary>
internal sealed record LayerReport(string Layer, string OpType, int Rows, int K, long N, double NearestMse, double Mse, int Improved, int Iterations,
    bool StoppedEarly, double StatsSeconds, double Seconds);

using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// <c>nupes</c>: power-exponent non-uniform weight quantization (Yvinec, Dapogny, Bailly). Each selected Conv, Gemm
/// and MatMul weight is coded on the grid sign(q)·|q/qmax|^(1/a)·s with per-channel or per-group abs-max scales s and
/// one exponent a per layer, searched (coarse grid, then refinement) for the least weight error (data_free) or output
/// error on calibration inputs (data_driven); the codes can then be optimised over the whole grid. The weight
/// initializer is replaced by packed codes, a lookup table, scales and a decode subgraph ORT folds at load, so the file
/// really shrinks. The layer then runs in fp32 on the decoded weights (weight-only: its activations are not quantized).
/// </summary>
public sealed class NupesPass : QuantizationPass<NupesOptions>
{
    /// <inheritdoc />
    public override string Name => "nupes";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> SupportedOps => ["Conv", "Gemm", "MatMul", "Gather"];

    /// <inheritdoc />
    public override void Run(IPassContext context, NupesOptions options)
    {
        if (options.Exponent.Min > options.Exponent.Max)
        {
            throw new QuantBuildException("QB2101", $"nupes: exponent min {options.Exponent.Min} is above max {options.Exponent.Max}.",
                "write exponent: {min: 0.25, max: 1.25} with min <= max");
        }

        Graph graph = context.Model.Graph;
        if (context.Model.OpsetVersion() is long opset && opset < 11)
        {
            context.Log.Warning($"the model imports opset {opset}; the decode subgraph needs BitShift (opset 11): nothing quantized");
            return;
        }

        List<Layer> layers = SelectLayers(context, options);
        ActivationGroups? activations = options.Mode == NupesMode.DataDriven && layers.Count > 0
            ? ActivationGroups.Plan(context, layers.Where(l => !l.Lookup).Select(l => l.Node.Inputs[0]).Distinct(StringComparer.Ordinal).ToList(), options.Samples, options.CaptureBudgetMb * 1048576L)
            : null;

        // The graph is rewritten only after every layer is coded: activations may still be captured on the way, and
        // they must come from the model as it was (a removed weight with no decode node yet would not run).
        double ratio = options.MaxWeightMseRatio ?? NupesOptions.DefaultMaxWeightMseRatio(options.Bits);
        var decodeNodes = new List<Node>();
        var replaced = new List<(TensorValue Weight, List<TensorValue> Constants)>();
        long before = 0, after = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < layers.Count; i++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            Layer layer = layers[i];
            var layerClock = Stopwatch.StartNew();
            var m = new LayerMatrix(layer.Matrix, layer.Channels, layer.Length, options.GroupSize);
            if (LayerQuantizer.IsLarge(m))
            {
                // Large layers take seconds each: say which one is running before its result line.
                context.Log.Information($"{layer.Node.DisplayName}: coding {m.Channels}×{m.Length} ({i + 1}/{layers.Count})");
            }

            ILayerObjective objective = Objective(context, layer, activations, options);
            double hessianSeconds = layerClock.Elapsed.TotalSeconds;
            LayerCodingResult coding = LayerCoder.Code(m, objective, options, ratio);
            LayerQuantization best = coding.Best, uniform = coding.Uniform;
            EncodedWeight encoded = EncodedWeight.From(layer.Weight.Name!, m, best, layer.Weight.Dims, layer.Transposed);
            (List<Node> nodes, List<TensorValue> constants) = encoded.BuildGraph($"nupes{i}");
            replaced.Add((layer.Weight, constants));
            decodeNodes.AddRange(nodes);
            before += layer.Weight.Data.Length;
            after += constants.Sum(t => (long)t.Data.Length);
            double mse = WeightMse(m, best.Decoded), uniformMse = WeightMse(m, uniform.Decoded);
            string errors = coding.SampledChannels < m.Channels
                ? string.Create(CultureInfo.InvariantCulture, $"{objective.Name} per channel {(double.IsNaN(best.Error) ? "not scored" : (best.Error / m.Channels).ToString("G4", CultureInfo.InvariantCulture))} (on {coding.SampledChannels} of {m.Channels} sampled channels: uniform a=1 {coding.UniformError / coding.SampledChannels:G4}, after search {coding.SearchedError / coding.SampledChannels:G4})")
                : string.Create(CultureInfo.InvariantCulture, $"{objective.Name} {best.Error:G4} (uniform a=1: {coding.UniformError:G4}, after search {coding.SearchedError:G4})");
            context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                $"{layer.Node.DisplayName}: {options.Bits}-bit a={best.Exponent:0.####}, {errors}; weight MSE {mse:G4} vs uniform {uniformMse:G4}{coding.Note}; {layer.Weight.Data.Length} → {constants.Sum(t => (long)t.Data.Length)} bytes; {layerClock.Elapsed.TotalSeconds:0.00} s (H {hessianSeconds:0.00}, search {coding.SearchSeconds:0.00}, codes {coding.CodesSeconds:0.00})"));
            context.Progress.Report(new StageProgress("nupes", i + 1, layers.Count));
        }

        foreach ((TensorValue weight, List<TensorValue> constants) in replaced)
        {
            graph.Initializers.Remove(weight);
            graph.Initializers.AddRange(constants);
        }

        graph.Nodes.InsertRange(0, decodeNodes);
        if (activations is { GroupCount: > 1 })
        {
            context.Log.Information($"layer inputs captured in {activations.GroupCount} groups ({activations.Captures} captures) to stay within capture_budget_mb ({options.CaptureBudgetMb} MB)");
        }

        if (layers.Count > 0)
        {
            context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                $"{layers.Count} layers to {options.Bits}-bit NUPES ({(options.GroupSize > 0 ? $"groups of {options.GroupSize}" : "per channel")}, {options.Mode}): weights {before} → {after} bytes ({(double)after / before:P1}); weights decoded by ORT at load, these layers compute in fp32; {clock.Elapsed.TotalSeconds:0.0} s"));
        }
    }

    private static double WeightMse(LayerMatrix m, float[] decoded) => LayerQuantizer.Score(m, decoded, WeightError.Instance) / m.Values.Length;

    /// <summary>A coded weight: its consumer, the initializer, the weight as [channels, length] rows; <paramref name="Lookup"/> for a Gather's table.</summary>
    private sealed record Layer(Node Node, TensorValue Weight, float[] Matrix, int Channels, int Length, bool Transposed, bool Lookup = false);

    private static List<Layer> SelectLayers(IPassContext context, NupesOptions options)
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
        var wanted = new HashSet<string>(options.Layers, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var layers = new List<Layer>();
        foreach (Node node in graph.Nodes)
        {
            if (!node.IsDefaultDomain || node.OpType is not ("Conv" or "Gemm" or "MatMul" or "Gather") || node.Inputs.Count < 2)
            {
                continue;
            }

            if (wanted.Count > 0 ? !wanted.Contains(node.OpType) && !(node.Name is { } n && wanted.Contains(n)) : node.OpType == "Gather")
            {
                // Embedding tables only when asked for: at 4 bits the transformer sample's token table alone costs
                // 2.9 points of top-1 (docs/benchmarks.md), far more than any linear layer.
                continue;
            }

            // A Gather looks rows up in its data input (an embedding table); the others multiply by input 1.
            bool lookup = node.OpType == "Gather";
            if (lookup && (node.FindAttribute("axis")?.Int ?? 0) != 0)
            {
                context.Log.Debug($"{node.DisplayName}: gathers along axis {node.FindAttribute("axis")!.Int}, not rows; left alone");
                continue;
            }

            string name = node.Inputs[lookup ? 0 : 1];
            if (!initializers.TryGetValue(name, out TensorValue? weight) || weight.ElementType != ElementType.Float || inputs.Contains(name) || weight.Data.Length == 0)
            {
                context.Log.Debug($"{node.DisplayName}: weight '{name}' is not a float initializer; left alone");
                continue;
            }

            if (!done.Add(name))
            {
                continue;
            }

            long[] dims = weight.Dims;
            float[] values = weight.AsReadOnlySpan<float>().ToArray();
            if (node.OpType == "Conv" && dims.Length >= 3)
            {
                int channels = (int)dims[0];
                layers.Add(new Layer(node, weight, values, channels, values.Length / channels, false));
            }
            else if (lookup && dims.Length == 2)
            {
                // [rows, width]: one scale per looked-up row (or per group along it)
                layers.Add(new Layer(node, weight, values, (int)dims[0], (int)dims[1], false, Lookup: true));
            }
            else if (lookup)
            {
                context.Log.Information($"{node.DisplayName}: table '{name}' has shape [{string.Join(",", dims)}]; only 2-D tables are coded; left alone");
            }
            else if (dims.Length == 2 && (node.OpType == "Gemm" && node.FindAttribute("transB")?.Int == 1))
            {
                layers.Add(new Layer(node, weight, values, (int)dims[0], (int)dims[1], false));
            }
            else if (dims.Length == 2)
            {
                // [in, out]: quantize the transpose so rows are output channels and groups run along the input axis.
                int k = (int)dims[0], channels = (int)dims[1];
                var t = new float[values.Length];
                for (int r = 0; r < k; r++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        t[c * k + r] = values[r * channels + c];
                    }
                }

                layers.Add(new Layer(node, weight, t, channels, k, true));
            }
            else
            {
                context.Log.Information($"{node.DisplayName}: weight '{name}' has shape [{string.Join(",", dims)}]; only conv and 2-D weights are coded; left alone");
            }
        }

        return layers;
    }

    /// <summary>
    /// Refuses names in <c>layers</c> that are neither a node of the model nor an op type the pass codes: a typo would
    /// otherwise leave the model's weights in fp32 without a word.
    /// </summary>
    private static void CheckLayerNames(Graph graph, string[] layers)
    {
        var known = new HashSet<string>(graph.Nodes.Select(n => n.Name).OfType<string>(), StringComparer.Ordinal) { "Conv", "Gemm", "MatMul", "Gather" };
        string[] unknown = layers.Where(l => !known.Contains(l)).ToArray();
        if (unknown.Length > 0)
        {
            List<string> examples = graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" or "Gather" && n.Name is not null).Select(n => n.Name!).ToList();
            throw new QuantBuildException("QB2102",
                $"nupes: layers names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which is neither a node of the model nor one of Conv, Gemm, MatMul, Gather.",
                $"use node names as `quantbuild inspect` lists them ({string.Join(", ", examples.Take(6))}{(examples.Count > 6 ? ", …" : string.Empty)}) or op types");
        }
    }

    private static ILayerObjective Objective(IPassContext context, Layer layer, ActivationGroups? activations, NupesOptions options)
    {
        // A lookup's output is its table's rows, so its output error is the weight error of the rows looked up.
        if (options.Mode != NupesMode.DataDriven || layer.Lookup || activations is null || activations.Get(layer.Node.Inputs[0]) is not { ElementType: ElementType.Float } x)
        {
            return WeightError.Instance;
        }

        Node node = layer.Node;
        ReadOnlySpan<float> data = x.AsSpan<float>();
        if (node.OpType == "Conv")
        {
            long[] shape = x.ShapeArray();
            string? autoPad = node.FindAttribute("auto_pad")?.StringValue;
            if (layer.Weight.Dims.Length != 4 || shape.Length != 4 || (node.FindAttribute("group")?.Int ?? 1) != 1 || autoPad is not (null or "NOTSET"))
            {
                context.Log.Information($"{node.DisplayName}: data-driven error needs a 2-D, group-1 conv with explicit pads; using the weight error");
                return WeightError.Instance;
            }

            int[] Ints(string attribute, int count, int fill)
            {
                NodeAttribute? a = node.FindAttribute(attribute);
                return a is null || a.Ints.Count == 0 ? Enumerable.Repeat(fill, count).ToArray() : a.Ints.Select(v => (int)v).ToArray();
            }

            long[] w = layer.Weight.Dims;
            return new OutputError(Hessian.FromConv(data, shape, (int)w[2], (int)w[3], Ints("strides", 2, 1), Ints("pads", 4, 0), Ints("dilations", 2, 1)), layer.Length);
        }

        if (node.OpType == "Gemm" && node.FindAttribute("transA")?.Int == 1 || data.Length % layer.Length != 0)
        {
            return WeightError.Instance;
        }

        return new OutputError(Hessian.FromRows(data, layer.Length), layer.Length);
    }
}

using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;

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

        var index = new GraphIndex(context.Model);
        List<Layer> layers = SelectLayers(context, index, options);
        ActivationGroups? activations = options.Mode == NupesMode.DataDriven && layers.Count > 0
            ? ActivationGroups.Plan(context, layers.Where(l => !l.Lookup).Select(l => l.Node.Inputs[0]).Distinct(StringComparer.Ordinal).ToList(), options.Samples, options.CaptureBudgetMb * 1048576L)
            : null;

        // The graph is rewritten only after every layer is coded: activations may still be captured on the way, and
        // they must come from the model as it was (a removed weight with no decode node yet would not run).
        double ratio = options.MaxWeightMseRatio ?? NupesOptions.DefaultMaxWeightMseRatio(options.Bits);
        var decodeNodes = new List<Node>();
        var replaced = new List<(string Weight, List<TensorValue> Constants)>();
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
            EncodedWeight encoded = EncodedWeight.From(layer.Weight, m, best, layer.Dims, layer.Transposed);
            (List<Node> nodes, List<TensorValue> constants) = encoded.BuildGraph($"nupes{i}");
            replaced.Add((layer.Weight, constants));
            decodeNodes.AddRange(nodes);
            before += layer.Bytes;
            after += constants.Sum(t => (long)t.Data.Length);
            double mse = WeightMse(m, best.Decoded), uniformMse = WeightMse(m, uniform.Decoded);
            string errors = coding.SampledChannels < m.Channels
                ? string.Create(CultureInfo.InvariantCulture, $"{objective.Name} per channel {(double.IsNaN(best.Error) ? "not scored" : (best.Error / m.Channels).ToString("G4", CultureInfo.InvariantCulture))} (on {coding.SampledChannels} of {m.Channels} sampled channels: uniform a=1 {coding.UniformError / coding.SampledChannels:G4}, after search {coding.SearchedError / coding.SampledChannels:G4})")
                : string.Create(CultureInfo.InvariantCulture, $"{objective.Name} {best.Error:G4} (uniform a=1: {coding.UniformError:G4}, after search {coding.SearchedError:G4})");
            context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                $"{layer.Node.DisplayName}: {options.Bits}-bit a={best.Exponent:0.####}, {errors}; weight MSE {mse:G4} vs uniform {uniformMse:G4}{coding.Note}; {layer.Bytes} → {constants.Sum(t => (long)t.Data.Length)} bytes; {layerClock.Elapsed.TotalSeconds:0.00} s (H {hessianSeconds:0.00}, search {coding.SearchSeconds:0.00}, codes {coding.CodesSeconds:0.00})"));
            context.Progress.Report(new StageProgress("nupes", i + 1, layers.Count));
        }

        foreach ((string weight, List<TensorValue> constants) in replaced)
        {
            // The decode subgraph produces the weight's name: its initializer or Constant node goes.
            if (index.KindOf(weight) == ConstantKind.ConstantNode)
            {
                graph.Nodes.Remove(index.Producer(weight)!);
            }
            else
            {
                graph.Initializers.RemoveAll(t => t.Name == weight);
            }

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

    /// <summary>A coded weight: its consumer, its name, dims and bytes, the weight as [channels, length] rows; <paramref name="Lookup"/> for a Gather's table.</summary>
    private sealed record Layer(Node Node, string Weight, long[] Dims, long Bytes, float[] Matrix, int Channels, int Length, bool Transposed, bool Lookup = false);

    private static List<Layer> SelectLayers(IPassContext context, GraphIndex index, NupesOptions options)
    {
        // Embedding tables only when asked for: at 4 bits the transformer sample's token table alone costs 2.9 points
        // of top-1 (docs/benchmarks.md), far more than any linear layer.
        var selector = new LayerSelector([.. LinearLayer.OpTypes, "Gather"], options.Layers, options.Exclude, implicitOpTypes: LinearLayer.OpTypes);
        selector.Check(index.Graph, "nupes", "QB2102");
        var done = new HashSet<string>(StringComparer.Ordinal);
        var layers = new List<Layer>();
        foreach (Node node in index.Graph.Nodes)
        {
            if (!selector.Selects(node) || node.Inputs.Count < 2)
            {
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
            if (!index.IsFloatConstant(name))
            {
                context.Log.Debug($"{node.DisplayName}: weight '{name}' is not a float constant; left alone");
                continue;
            }

            if (!done.Add(name))
            {
                continue;
            }

            long bytes = index.Constant(name)!.Data.Length;
            if (lookup)
            {
                float[] table = index.FloatConstant(name, out long[] dims)!;
                if (dims.Length == 2)
                {
                    // [rows, width]: one scale per looked-up row (or per group along it)
                    layers.Add(new Layer(node, name, dims, bytes, table, (int)dims[0], (int)dims[1], false, Lookup: true));
                }
                else
                {
                    context.Log.Information($"{node.DisplayName}: table '{name}' has shape [{string.Join(",", dims)}]; only 2-D tables are coded; left alone");
                }

                continue;
            }

            if (LinearLayer.TryCreate(index, node, out string? why) is not { } linear)
            {
                context.Log.Information($"{node.DisplayName}: {why}; only conv and 2-D weights are coded; left alone");
                continue;
            }

            // Rows are output channels, so groups run along the input axis whatever the storage layout.
            layers.Add(new Layer(node, name, linear.WeightDims, bytes, linear.ReadMatrix(index), linear.Rows, linear.Columns, linear.Transposed));
        }

        return layers;
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
            if (ConvGeometry.TryFor(node, layer.Dims, x.ShapeArray(), out string? why) is not { Groups: 1 } geometry)
            {
                context.Log.Information($"{node.DisplayName}: data-driven error needs a 1-D or 2-D, group-1 conv ({why ?? "grouped"}); using the weight error");
                return WeightError.Instance;
            }

            return new OutputError(Hessian.FromConv(data, geometry), layer.Length);
        }

        if (node.OpType == "Gemm" && node.FindAttribute("transA")?.Int == 1 || data.Length % layer.Length != 0)
        {
            return WeightError.Instance;
        }

        return new OutputError(Hessian.FromRows(data, layer.Length), layer.Length);
    }
}

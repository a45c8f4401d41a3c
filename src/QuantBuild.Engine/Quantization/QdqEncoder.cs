using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization.Operators;
using QuantBuild.Engine.Rewrites;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// The built-in round-to-nearest QDQ encoder, the baseline every plugin is compared with: symmetric per-channel
/// int8 weights, per-tensor activations as the device profile says, int32 bias, Q/DQ around the ops ORT keeps in
/// integer between Conv, Gemm and MatMul. <see cref="Plan"/> says which activations calibration must observe;
/// <see cref="Encode"/> writes the QDQ model from their ranges.
/// </summary>
public static class QdqEncoder
{
    /// <summary>
    /// The activation tensors (main graph, then each If branch and Loop/Scan body depth-first, graph order) whose ranges
    /// <see cref="Encode"/> needs; a calibrator exposes them as extra outputs. Outputs of shape-only ops are absent: they
    /// reuse their input's encoding; so are layer outputs a Relu/Clip folds into: they take the activation's encoding.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3001 for an already quantized model, QB3006 for unsupported weight bits.</exception>
    public static IReadOnlyList<string> Plan(OnnxModel model, EncodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        Validate(model, options);
        var wanted = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (GraphIndex index in Branches.Walk(new GraphIndex(model)))
        {
            wanted.AddRange(Wanted(index, options).Where(seen.Add));
            if (index.Outer is not null && Witness(index, options) is { } witness && seen.Add(witness))
            {
                wanted.Add(witness);
            }
        }

        return wanted;
    }

    /// <summary>
    /// For an If branch or Loop/Scan body whose integer nodes read ranges of outer tensors only (a MatMul reading the main graph's input),
    /// one float tensor it computes, observed only to learn whether calibration ran the branch: such a branch that never
    /// ran stays fp32 (<see cref="Branches.NotReached"/>). Layers needing no range at all (DynamicQuantizeLSTM, 4-bit
    /// weights) are quantized in any branch: nothing about them is guessed from data.
    /// </summary>
    internal static string? Witness(GraphIndex branch, EncodeOptions options)
    {
        if (Wanted(branch, options).Any(t => Branches.IsOwn(branch, t)))
        {
            return null;
        }

        (NodeMode[] modes, _) = NodeSelector.Select(branch, options, null);
        for (int i = 0; i < modes.Length; i++)
        {
            if (modes[i] == NodeMode.Integer
                && branch.Graph.Nodes[i].Outputs.FirstOrDefault(o => o.Length > 0 && branch.TypeOf(o) == Abstractions.Tensors.ElementType.Float) is { } output)
            {
                return output;
            }
        }

        return null;
    }

    /// <summary>The activations of one graph (main or branch) its integer nodes need ranges for, as planned without ranges.</summary>
    internal static List<string> Wanted(GraphIndex index, EncodeOptions options)
    {
        var ops = new GraphOps(options.Operators, index);
        (NodeMode[] modes, _) = NodeSelector.Select(index, options, null);

        // A layer's output that takes its Relu/Clip's encoding is never written with its own range: asking for it
        // would only make calibration expose it (and keep ORT from fusing the pair).
        HashSet<string> folded = ActivationPlanner.Folded(index, ops, modes);
        var wanted = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Want(string tensor)
        {
            if (index.Constant(tensor) is null && !folded.Contains(tensor) && seen.Add(tensor))
            {
                wanted.Add(tensor);
            }
        }

        IrList<Node> nodes = index.Graph.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            if (modes[i] != NodeMode.Integer)
            {
                continue;
            }

            foreach (int position in ops.ActivationInputs(node))
            {
                string input = node.Inputs[position];
                bool inherited = index.Producer(input) is { } p && modes[p] == NodeMode.Integer
                    && ops.RoleOf(nodes[p]) == OpRole.ScaleInheriting;
                if (!inherited)
                {
                    Want(input);
                }
            }

            if (ops.RoleOf(node) != OpRole.ScaleInheriting)
            {
                foreach (string output in node.Outputs)
                {
                    if (output.Length > 0 && !index.IsGraphOutput(output))
                    {
                        Want(output);
                    }
                }
            }
        }

        return wanted;
    }

    /// <summary>
    /// Encodes <paramref name="model"/> as QDQ with the calibrated <paramref name="activationRanges"/>. The input model
    /// is not changed; the same inputs always give a byte-identical model.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">
    /// QB3001 already quantized, QB3002 opset cannot be raised safely, QB3003/QB3004 invalid weight override,
    /// QB3005 non-finite range, QB3006 unsupported weight bits.
    /// </exception>
    public static EncodeResult Encode(OnnxModel model, IReadOnlyDictionary<string, TensorRange> activationRanges, EncodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(activationRanges);
        ArgumentNullException.ThrowIfNull(options);
        Validate(model, options);
        activationRanges = WithPassRanges(activationRanges, options);
        var index = new GraphIndex(model);
        // The main graph and every branch and body, indexed once for the passes' weight encodings (none: not needed).
        List<GraphIndex> scopes = options.WeightOverrides.Count == 0 ? [] : Branches.Walk(index).ToList();
        foreach (string weight in options.WeightOverrides.Keys.Order(StringComparer.Ordinal))
        {
            if (!scopes.Any(scope => scope.Constant(weight) is not null))
            {
                throw QuantizationErrors.UnknownWeightOverride(weight, options.WeightOverrides[weight].Origin ?? "a recipe pass");
            }
        }

        OnnxModel quantized = ModelCopy.WithNewMainGraph(model);
        var writer = new BranchEncoder(options, activationRanges, new NameTable(model.Graph));
        writer.Encode(index, quantized.Graph);
        List<QuantizedLayer> layers = writer.Layers;
        if (layers.Count > 0)
        {
            long required = Math.Max(13, options.Profile.Kernels.MinimumOpset);
            bool fourBit = writer.UsesFourBit;
            if ((fourBit && options.FourBitFormat == FourBitFormat.BlockedDequantize) || UsesSubByteOverride(options))
            {
                required = Math.Max(required, 21);
            }

            OpsetPolicy.Raise(quantized, required);
            bool contribOps = writer.UsesDynamic || (fourBit && options.FourBitFormat == FourBitFormat.MatMulNBits);
            if (contribOps && !quantized.OpsetImports.Any(i => i.Domain == "com.microsoft"))
            {
                quantized.OpsetImports.Add(new OpsetImport("com.microsoft", 1));
            }
        }

        // Exporters' leftovers and the originals the writer replaced: ORT warns twice per unread initializer per session.
        // Subgraphs are not swept here: a branch the encoder did not rewrite is still the input model's own object.
        Rewrites.DeadCodeRewrite.Sweep(quantized.Graph, subgraphs: false);

        return new EncodeResult(quantized, layers, writer.Unquantized, Unused(scopes, options, layers, writer.Unquantized));
    }

    // The passes' weight encodings no quantized layer reads: every reader of the weight, in any branch or body, stayed fp32.
    private static List<UnusedWeightEncoding> Unused(List<GraphIndex> scopes, EncodeOptions options, List<QuantizedLayer> layers, IReadOnlyList<UnquantizedNode> unquantized)
    {
        var unused = new List<UnusedWeightEncoding>();
        var quantizedNodes = new HashSet<string>(layers.Select(l => l.NodeName), StringComparer.Ordinal);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (UnquantizedNode node in unquantized)
        {
            reasons.TryAdd(node.NodeName, node.Reason);
        }

        foreach ((string weight, WeightEncoding encoding) in options.WeightOverrides.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            List<Node> readers = scopes.SelectMany(scope => scope.Consumers(weight).Select(i => scope.Graph.Nodes[i])).ToList();
            if (readers.Count > 0 && !readers.Any(n => quantizedNodes.Contains(n.DisplayName)))
            {
                string reader = readers[0].DisplayName;
                unused.Add(new UnusedWeightEncoding(weight, encoding.Origin ?? "unnamed", reader, reasons.GetValueOrDefault(reader, "not quantized")));
            }
        }

        return unused;
    }

    private static bool UsesSubByteOverride(EncodeOptions options) =>
        options.WeightOverrides.Values.Any(e => e.Type is Abstractions.Tensors.ElementType.Int4 or Abstractions.Tensors.ElementType.UInt4 || e.BlockSize is not null);

    private static void Validate(OnnxModel model, EncodeOptions options)
    {
        if (options.WeightBits is not (8 or 4) || !options.Profile.Kernels.WeightBits.Contains(options.WeightBits))
        {
            throw QuantizationErrors.UnsupportedWeightBits(options.WeightBits, options.Profile.Name);
        }

        foreach (Node node in GraphWalk.AllNodes(model.Graph))
        {
            if (OpQuantizerRegistry.IsQuantizedOp(node))
            {
                throw QuantizationErrors.AlreadyQuantized(node.DisplayName, node.OpType);
            }
        }

        if (options.DynamicNodeNames.Count > 0)
        {
            ValidateDynamicNames(model, options);
        }
    }

    // A layer named for run-time quantization is honoured or refused, never silently left static.
    private static void ValidateDynamicNames(OnnxModel model, EncodeOptions options)
    {
        // A layer of an If branch or a Loop/Scan body is judged in its own graph (the fallback keeps such layers dynamic too).
        var byName = Branches.ByName(model);
        foreach (string name in options.DynamicNodeNames.Order(StringComparer.Ordinal))
        {
            string? why = !byName.TryGetValue(name, out (Node Node, GraphIndex Scope) at) ? "the model has no node of that name"
                : options.Operators.Find(at.Node) is not { } family || family.RoleOf(at.Node, at.Scope) != OpRole.Linear ? $"it is a {at.Node.OpType}, not a layer with a constant weight"
                : family.DynamicRefusal(at.Node, at.Scope);
            if (why is not null)
            {
                throw QuantizationErrors.DynamicNotWritable(name, why);
            }
        }
    }

    // Ranges a recipe pass set win over calibration's, so fallback and every re-encode see the same grid.
    private static IReadOnlyDictionary<string, TensorRange> WithPassRanges(IReadOnlyDictionary<string, TensorRange> calibrated, EncodeOptions options)
    {
        if (options.ActivationRanges.Count == 0)
        {
            return calibrated;
        }

        var merged = new Dictionary<string, TensorRange>(calibrated, StringComparer.Ordinal);
        foreach ((string tensor, TensorRange range) in options.ActivationRanges)
        {
            merged[tensor] = range;
        }

        return merged;
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization.Operators;

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
    /// The activation tensors (main graph, graph order) whose ranges <see cref="Encode"/> needs; a calibrator exposes
    /// them as extra outputs. Outputs of shape-only ops are absent: they reuse their input's encoding; so are layer outputs
    /// a Relu/Clip folds into: they take the activation's encoding.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3001 for an already quantized model, QB3006 for unsupported weight bits.</exception>
    public static IReadOnlyList<string> Plan(OnnxModel model, EncodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        Validate(model, options);
        var index = new GraphIndex(model);
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

        IrList<Node> nodes = model.Graph.Nodes;
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
        foreach (string weight in options.WeightOverrides.Keys.Order(StringComparer.Ordinal))
        {
            if (index.Constant(weight) is null)
            {
                throw QuantizationErrors.UnknownWeightOverride(weight, options.WeightOverrides[weight].Origin ?? "a recipe pass");
            }
        }

        (NodeMode[] modes, string?[] reasons) = NodeSelector.Select(index, options, activationRanges);
        Dictionary<string, ActivationEncoding> encodings = ActivationPlanner.Encodings(index, new GraphOps(options.Operators, index), modes, activationRanges, options.Profile);

        OnnxModel quantized = ModelCopy.WithNewMainGraph(model);
        List<QuantizedLayer> layers = new QdqGraphWriter(index, options, modes, encodings, quantized.Graph).Write();
        if (layers.Count > 0)
        {
            long required = Math.Max(13, options.Profile.Kernels.MinimumOpset);
            bool fourBit = Array.IndexOf(modes, NodeMode.WeightOnly4) >= 0;
            if ((fourBit && options.FourBitFormat == FourBitFormat.BlockedDequantize) || UsesSubByteOverride(options))
            {
                required = Math.Max(required, 21);
            }

            OpsetPolicy.Raise(quantized, required);
            bool contribOps = Array.IndexOf(modes, NodeMode.DynamicInteger) >= 0 || (fourBit && options.FourBitFormat == FourBitFormat.MatMulNBits);
            if (contribOps && !quantized.OpsetImports.Any(i => i.Domain == "com.microsoft"))
            {
                quantized.OpsetImports.Add(new OpsetImport("com.microsoft", 1));
            }
        }

        // Exporters' leftovers and the originals the writer replaced: ORT warns twice per unread initializer per session.
        Rewrites.DeadCodeRewrite.Sweep(quantized.Graph, subgraphs: false);

        return new EncodeResult(quantized, layers, Unquantized(model.Graph, modes, reasons));
    }

    private static bool UsesSubByteOverride(EncodeOptions options) =>
        options.WeightOverrides.Values.Any(e => e.Type is Abstractions.Tensors.ElementType.Int4 or Abstractions.Tensors.ElementType.UInt4 || e.BlockSize is not null);

    private static void Validate(OnnxModel model, EncodeOptions options)
    {
        if (options.WeightBits is not (8 or 4) || !options.Profile.Kernels.WeightBits.Contains(options.WeightBits))
        {
            throw QuantizationErrors.UnsupportedWeightBits(options.WeightBits, options.Profile.Name);
        }

        foreach ((Node node, _) in Walk(model.Graph, null))
        {
            if (OpQuantizerRegistry.IsQuantizedOp(node))
            {
                throw QuantizationErrors.AlreadyQuantized(node.DisplayName, node.OpType);
            }
        }
    }

    private static List<UnquantizedNode> Unquantized(Graph graph, NodeMode[] modes, string?[] reasons)
    {
        var list = new List<UnquantizedNode>();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            Node node = graph.Nodes[i];
            if (modes[i] != NodeMode.Fp32)
            {
                continue;
            }

            list.Add(new UnquantizedNode(node.DisplayName, node.OpType, reasons[i] ?? "not quantized"));
            foreach ((Node inner, Node owner) in Walk(node, node))
            {
                if (!(inner.IsDefaultDomain && inner.OpType == "Constant"))
                {
                    list.Add(new UnquantizedNode(inner.DisplayName, inner.OpType,
                        $"inside a subgraph of {owner.DisplayName}: calibration cannot observe subgraph activations"));
                }
            }
        }

        return list;
    }

    private static IEnumerable<(Node Node, Node? Owner)> Walk(Graph graph, Node? owner)
    {
        foreach (Node node in graph.Nodes)
        {
            yield return (node, owner);
            foreach ((Node inner, Node? innerOwner) in Walk(node, node))
            {
                yield return (inner, innerOwner);
            }
        }
    }

    private static IEnumerable<(Node Node, Node Owner)> Walk(Node node, Node owner)
    {
        foreach (NodeAttribute attribute in node.Attributes)
        {
            IEnumerable<Graph> graphs = attribute.Graph is null ? attribute.Graphs : attribute.Graphs.Prepend(attribute.Graph);
            foreach (Graph g in graphs)
            {
                foreach ((Node inner, Node? innerOwner) in Walk(g, owner))
                {
                    yield return (inner, innerOwner ?? owner);
                }
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

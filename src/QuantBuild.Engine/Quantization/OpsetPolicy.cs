using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Raises the default-domain opset to what the encoding needs (13 for per-channel DequantizeLinear, 21 for int4
/// blocks) only when no op in the model changes meaning on the way; otherwise the encoder refuses (QB3002).
/// </summary>
internal static class OpsetPolicy
{
    // Opset versions at which an op's inputs or attributes changed incompatibly (an attribute became an input,
    // defaults or semantics changed), from opset 7 on. Ops absent here kept their meaning across 7–21.
    private static readonly Dictionary<string, long[]> BreakingVersions = new(StringComparer.Ordinal)
    {
        ["Upsample"] = new long[] { 9, 10 },
        ["Slice"] = new long[] { 10 },
        ["TopK"] = new long[] { 10 },
        ["Clip"] = new long[] { 11 },
        ["Pad"] = new long[] { 11 },
        ["Resize"] = new long[] { 11, 13 },
        ["Scatter"] = new long[] { 11 },
        ["Dropout"] = new long[] { 12 },
        ["Squeeze"] = new long[] { 13 },
        ["Unsqueeze"] = new long[] { 13 },
        ["Split"] = new long[] { 13 },
        ["ReduceSum"] = new long[] { 13 },
        ["Softmax"] = new long[] { 13 },
        ["LogSoftmax"] = new long[] { 13 },
        ["Hardmax"] = new long[] { 13 },
        ["ReduceMean"] = new long[] { 18 },
        ["ReduceMax"] = new long[] { 18 },
        ["ReduceMin"] = new long[] { 18 },
        ["ReduceProd"] = new long[] { 18 },
        ["ReduceL1"] = new long[] { 18 },
        ["ReduceL2"] = new long[] { 18 },
        ["ReduceLogSum"] = new long[] { 18 },
        ["ReduceLogSumExp"] = new long[] { 18 },
        ["ReduceSumSquare"] = new long[] { 18 },
        ["BatchNormalization"] = new long[] { 9 },
    };

    /// <summary>Sets the default-domain opset to at least <paramref name="required"/> and the IR version to match.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3002 when an op would change meaning.</exception>
    public static void Raise(OnnxModel model, long required)
    {
        long current = model.OpsetVersion() ?? 1;
        if (current >= required)
        {
            return;
        }

        foreach (Node node in AllNodes(model.Graph))
        {
            if (node.IsDefaultDomain && BreakingVersions.TryGetValue(node.OpType, out long[]? versions))
            {
                foreach (long v in versions)
                {
                    if (v > current && v <= required)
                    {
                        throw QuantizationErrors.OpsetNotRaisable(current, required, node.OpType, v);
                    }
                }
            }
        }

        int at = model.OpsetImports.FindIndex(i => i.IsDefaultDomain);
        if (at >= 0)
        {
            model.OpsetImports[at] = model.OpsetImports[at] with { Version = required };
        }
        else
        {
            model.OpsetImports.Insert(0, new OpsetImport(string.Empty, required));
        }

        long ir = required >= 21 ? 10 : required >= 19 ? 9 : required >= 15 ? 8 : 7;
        if ((model.IrVersion ?? 0) < ir)
        {
            if ((model.IrVersion ?? 0) < 4)
            {
                // Before IR 4 every initializer had to be listed as an input too; from 4 on that makes it overridable.
                var initializers = new HashSet<string>(model.Graph.Initializers.Select(t => t.Name ?? string.Empty), StringComparer.Ordinal);
                model.Graph.Inputs.RemoveAll(i => initializers.Contains(i.Name));
            }

            model.IrVersion = ir;
        }
    }

    private static IEnumerable<Node> AllNodes(Graph graph)
    {
        foreach (Node node in graph.Nodes)
        {
            yield return node;
            foreach (NodeAttribute attribute in node.Attributes)
            {
                if (attribute.Graph is not null)
                {
                    foreach (Node inner in AllNodes(attribute.Graph))
                    {
                        yield return inner;
                    }
                }

                foreach (Graph g in attribute.Graphs)
                {
                    foreach (Node inner in AllNodes(g))
                    {
                        yield return inner;
                    }
                }
            }
        }
    }
}

using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Computes once the main-graph nodes whose inputs are all constants (initializers a caller cannot override, Constant
/// nodes, or other such nodes' outputs) and puts their results in as initializers: shape arithmetic, transposed or
/// reshaped weights, exporter-split parameters. ONNX Runtime itself evaluates them, from a small model of just those
/// nodes, so every op means exactly what it means at run time. A result much larger than the constants it came from
/// (Expand, ConstantOfShape, Tile) is left as nodes so the file stays small; nodes reading sub-byte codes are never
/// folded (that is a packed weight and its decoder, which must stay packed).
/// </summary>
internal sealed class ConstantFoldingRewrite : IGraphRewrite
{
    /// <summary>A folded result may be this many times larger than the constants it reads, plus <see cref="SlackBytes"/>.</summary>
    public const long GrowthFactor = 2;

    /// <summary>Small results are always folded: a few KB of shape tensors never matter.</summary>
    public const long SlackBytes = 64 * 1024;

    public string Name => "constant-folding";

    public RewriteResult Apply(OnnxModel model)
    {
        var changed = new List<string>();
        var skipped = new List<string>();
        FoldWithBranches(model, model.Graph, null, changed, skipped);
        return RewriteResult.Of(Name, changed, skipped);
    }

    // If branches and Loop/Scan bodies are graphs the encoder quantizes on their own (an LSTM's weights there are often
    // exporter arithmetic on Constant nodes): each is folded the same way after the graph around it, seeing that graph's
    // constants too, and evaluated from a model around just that subgraph. A body's inputs (iteration number, carried
    // state, scan slices) are never constants, so only what is the same in every iteration is folded.
    private void FoldWithBranches(OnnxModel model, Graph graph, GraphConstants? outer, List<string> changed, List<string> skipped)
    {
        RewriteResult result = Fold(ReferenceEquals(graph, model.Graph) ? model : PassKit.ModelClone.WithMainGraph(model, graph), outer);
        changed.AddRange(result.Changed);
        skipped.AddRange(result.Skipped);
        var constants = new GraphConstants(graph, model.IrVersion, outer);
        foreach (Node node in graph.Nodes.ToList())
        {
            foreach (NodeAttribute branch in Quantization.Branches.Of(node))
            {
                FoldWithBranches(model, branch.Graph!, constants, changed, skipped);
            }
        }
    }

    private RewriteResult Fold(OnnxModel model, GraphConstants? outer)
    {
        Graph graph = model.Graph;
        var constants = new GraphConstants(graph, model.IrVersion, outer);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var computed = new Dictionary<string, long>(StringComparer.Ordinal); // value → bytes of the constants it derives from
        var candidates = new List<Node>();
        foreach (Node node in graph.Nodes)
        {
            if (!Foldable(node, constants, computed, outputs))
            {
                continue;
            }

            long origin = 0;
            foreach (string input in node.Inputs.Where(i => i.Length > 0))
            {
                origin += computed.TryGetValue(input, out long b) ? b : constants.Find(input)!.ByteSize;
            }

            candidates.Add(node);
            foreach (string output in node.Outputs.Where(o => o.Length > 0))
            {
                computed[output] = origin;
            }
        }

        if (candidates.Count == 0)
        {
            return RewriteResult.Of(Name, []);
        }

        var candidateSet = new HashSet<Node>(candidates, ReferenceEqualityComparer.Instance);
        var frontier = Frontier(graph, candidateSet);
        IReadOnlyDictionary<string, DenseTensor> values;
        try
        {
            values = Evaluate(model, candidates, constants, frontier);
        }
        catch (Exception e) when (e is OnnxRuntimeException or QuantBuildException)
        {
            // Folding is an optimisation: a node ORT cannot evaluate alone (a string output, say) stays as it is.
            return RewriteResult.Of(Name, [], [$"{candidates.Count} constant nodes: ONNX Runtime could not evaluate them apart ({e.Message})"]);
        }

        var skipped = new List<string>();
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (string value in frontier)
        {
            long bytes = values[value].Data.Length;
            long origin = computed[value];
            if (bytes > GrowthFactor * origin + SlackBytes)
            {
                kept.Add(value);
                skipped.Add($"{value}: {bytes} bytes computed from {origin} bytes of constants, kept as nodes so the model stays small");
            }
        }

        HashSet<Node> needed = ProducersOf(kept, candidates);
        var folded = candidates.Where(n => !needed.Contains(n)).ToList();
        var foldedSet = new HashSet<Node>(folded, ReferenceEqualityComparer.Instance);
        graph.Nodes.RemoveAll(foldedSet.Contains);
        foreach (string value in frontier)
        {
            if (!kept.Contains(value) && !needed.Any(n => n.Outputs.Contains(value)))
            {
                graph.Initializers.Add(TensorValue.FromDense(value, values[value]));
            }
        }

        return RewriteResult.Of(Name, folded.Select(n => n.DisplayName), skipped);
    }

    private static bool Foldable(Node node, GraphConstants constants, Dictionary<string, long> computed, HashSet<string> graphOutputs)
    {
        if (!node.IsDefaultDomain || node.OpType is "Constant" or "Multinomial" or "QuantizeLinear" or "DequantizeLinear" or "DynamicQuantizeLinear"
            || node.OpType.StartsWith("Random", StringComparison.Ordinal) || GraphWalk.HasSubgraphs(node)
            || node.Outputs.Any(graphOutputs.Contains))
        {
            return false;
        }

        int read = 0;
        foreach (string input in node.Inputs.Where(i => i.Length > 0))
        {
            if (computed.ContainsKey(input))
            {
                read++;
                continue;
            }

            if (constants.Find(input) is not { } t || ElementTypeInfo.BitsPerElement(t.ElementType) < 8 || t.ElementType == ElementType.String)
            {
                return false;
            }

            read++;
        }

        return read > 0;
    }

    /// <summary>The folded values something outside the folded set reads: other nodes, subgraph bodies.</summary>
    private static List<string> Frontier(Graph graph, HashSet<Node> candidates)
    {
        var read = new HashSet<string>(StringComparer.Ordinal);
        foreach (Node node in graph.Nodes.Where(n => !candidates.Contains(n)))
        {
            read.UnionWith(node.Inputs);
            foreach (Graph g in GraphWalk.Subgraphs(node))
            {
                read.UnionWith(GraphWalk.ReadNames(g));
            }
        }

        return candidates.SelectMany(n => n.Outputs).Where(o => o.Length > 0 && read.Contains(o)).ToList();
    }

    private static HashSet<Node> ProducersOf(HashSet<string> values, List<Node> candidates)
    {
        var needed = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var wanted = new HashSet<string>(values, StringComparer.Ordinal);
        for (int i = candidates.Count - 1; i >= 0; i--)
        {
            if (candidates[i].Outputs.Any(wanted.Contains))
            {
                needed.Add(candidates[i]);
                wanted.UnionWith(candidates[i].Inputs);
            }
        }

        return needed;
    }

    /// <summary>Runs the candidate nodes as a model of their own, with the constants they read as its initializers.</summary>
    private static IReadOnlyDictionary<string, DenseTensor> Evaluate(OnnxModel model, List<Node> nodes, GraphConstants constants, List<string> frontier)
    {
        var tiny = new OnnxModel { IrVersion = model.IrVersion, ProducerName = "quantbuild-constant-folding" };
        tiny.OpsetImports.AddRange(model.OpsetImports);
        var produced = new HashSet<string>(nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);
        var added = new HashSet<string>(StringComparer.Ordinal);
        foreach (string input in nodes.SelectMany(n => n.Inputs))
        {
            if (input.Length > 0 && !produced.Contains(input) && added.Add(input))
            {
                TensorValue t = constants.Find(input)!;
                tiny.Graph.Initializers.Add(new TensorValue { Name = input, ElementType = t.ElementType, Dims = t.Dims, Data = t.Data });
            }
        }

        tiny.Graph.Name = "constants";
        tiny.Graph.Nodes.AddRange(nodes);
        foreach (string value in frontier)
        {
            tiny.Graph.Outputs.Add(new ValueInfo { Name = value });
        }

        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(tiny),
            new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.DisableAll });
        return session.Run(new Dictionary<string, DenseTensor>(), frontier);
    }
}

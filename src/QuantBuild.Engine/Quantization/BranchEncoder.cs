using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization.Operators;
using QuantBuild.Engine.Rewrites;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Encodes a graph and then every If branch and Loop/Scan body in it, each with the main graph's decisions (the same
/// selector, planner and writer, over an index that sees the enclosing graphs' constants), so a weight defined outside
/// the subgraph is quantized where the subgraph reads it (its int8 codes become the subgraph's own initializers). A
/// rewritten subgraph is a new graph on a new attribute of the written node; the input model's subgraphs are never
/// changed. A subgraph whose own tensors calibration never saw (the If never took the branch, the loop ran 0
/// iterations on the calibration data) stays fp32 with <see cref="Branches.NotReached"/> or
/// <see cref="Branches.NotIterated"/> instead of a guessed range.
/// </summary>
internal sealed class BranchEncoder(EncodeOptions options, IReadOnlyDictionary<string, TensorRange> ranges, NameTable names)
{
    /// <summary>The quantized layers, main graph first, then each branch's, depth-first in graph order.</summary>
    public List<QuantizedLayer> Layers { get; } = new();

    /// <summary>Every node left fp32 (Constant nodes aside), each followed by its subgraphs' nodes.</summary>
    public List<UnquantizedNode> Unquantized { get; } = new();

    /// <summary>Some node became DynamicQuantizeLSTM (a com.microsoft op).</summary>
    public bool UsesDynamic { get; private set; }

    /// <summary>Some MatMul got 4-bit weights.</summary>
    public bool UsesFourBit { get; private set; }

    /// <summary>Writes <paramref name="index"/>'s graph into <paramref name="target"/> (a copy without nodes) and recurses into its If branches and Loop/Scan bodies.</summary>
    public void Encode(GraphIndex index, Graph target)
    {
        (NodeMode[] modes, string?[] reasons) = NodeSelector.Select(index, options, ranges);
        UsesDynamic |= Array.IndexOf(modes, NodeMode.DynamicInteger) >= 0;
        UsesFourBit |= Array.IndexOf(modes, NodeMode.WeightOnly4) >= 0;
        Dictionary<string, ActivationEncoding> encodings = ActivationPlanner.Encodings(index, new GraphOps(options.Operators, index), modes, ranges, options.Profile);
        Layers.AddRange(new QdqGraphWriter(index, options, modes, encodings, target, names).Write());

        // The writer's clones share their attribute objects with the source, so a branch graph finds its written If (or Loop/Scan).
        var written = new Dictionary<Graph, (Node Node, int Attribute)>(ReferenceEqualityComparer.Instance);
        foreach (Node node in target.Nodes)
        {
            for (int a = 0; a < node.Attributes.Count; a++)
            {
                if ((Branches.IsIf(node) || Branches.IsLoop(node)) && node.Attributes[a].Graph is { } g)
                {
                    written[g] = (node, a);
                }
            }
        }

        IrList<Node> nodes = index.Graph.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            if (modes[i] == NodeMode.Fp32)
            {
                Unquantized.Add(new UnquantizedNode(node.DisplayName, node.OpType, reasons[i] ?? "not quantized"));
            }

            if (!Branches.IsIf(node) && !Branches.IsLoop(node))
            {
                AddAll(Branches.AllNodes(node), Branches.BodyReason);
                continue;
            }

            foreach (NodeAttribute branch in Branches.Of(node))
            {
                GraphIndex inner = index.Branch(branch.Graph!, Branches.IsLoop(node));
                if (!Reached(inner))
                {
                    AddAll(GraphWalk.AllNodes(inner.Graph), Branches.IsLoop(node) ? Branches.NotIterated : Branches.NotReached);
                    continue;
                }

                Graph rewritten = ModelCopy.WithoutNodes(branch.Graph!);
                Encode(inner, rewritten);
                // What the branch's writer replaced may have been read from here only; this graph is our own copy.
                Rewrites.DeadCodeRewrite.Sweep(rewritten, subgraphs: false);
                (Node owner, int at) = written[branch.Graph!];
                owner.Attributes.Replace(at, NodeAttribute.FromGraph(branch.Name, rewritten));
            }
        }
    }

    // Calibration exposes a branch's tensors through its If, which outputs an empty dummy when the other branch runs, and
    // a body's as scan outputs, empty when the loop ran 0 iterations, so a subgraph that never ran has no range for
    // anything it computes itself or gets as a body input (its witness included, when it needs no range of its own).
    // Tensors it reads from outside are no sign. One calibration could not observe (its shape changes between
    // iterations) is no sign either way. A subgraph with nothing to quantize is left to the selector, whose reasons say why.
    private bool Reached(GraphIndex branch)
    {
        List<string> own = QdqEncoder.Wanted(branch, options).Where(t => Branches.IsOwn(branch, t) && !options.Unobserved.ContainsKey(t)).ToList();
        if (QdqEncoder.Witness(branch, options) is { } witness)
        {
            own.Add(witness);
        }

        return own.Count == 0 || own.Any(ranges.ContainsKey);
    }

    private void AddAll(IEnumerable<Node> nodes, string reason)
    {
        foreach (Node node in nodes)
        {
            if (!(node.IsDefaultDomain && node.OpType == "Constant"))
            {
                Unquantized.Add(new UnquantizedNode(node.DisplayName, node.OpType, reason));
            }
        }
    }
}

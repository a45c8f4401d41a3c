using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// The subgraphs the encoder quantizes like the main graph: the then/else branches of <c>If</c> nodes, nested to any
/// depth. A branch runs at most once per model run, so calibration can observe its tensors as extra outputs of the
/// branch and of its If (<see cref="Calibration.BranchExposure"/>). Loop and Scan bodies run once per iteration and
/// stay fp32.
/// </summary>
internal static class Branches
{
    /// <summary>Why a node of an If branch calibration never ran stays fp32: no range is guessed for it.</summary>
    public const string NotReached = "branch not reached by the calibration data";

    /// <summary>Why a Loop or Scan (and every node of its body) stays fp32.</summary>
    public const string BodyReason = "control flow: Loop and Scan bodies stay fp32 because a body runs once per iteration (only If branches are quantized)";

    /// <summary>True for an ONNX <c>If</c> node.</summary>
    public static bool IsIf(Node node) => node.IsDefaultDomain && node.OpType == "If";

    /// <summary>The branch attributes of <paramref name="node"/> (then_branch, else_branch), or none when it is not an If.</summary>
    public static IEnumerable<NodeAttribute> Of(Node node) =>
        IsIf(node) ? node.Attributes.Where(a => a.Graph is not null) : Enumerable.Empty<NodeAttribute>();

    /// <summary><paramref name="index"/> and the index of every If branch under it, depth-first in graph order.</summary>
    public static IEnumerable<GraphIndex> Walk(GraphIndex index)
    {
        yield return index;
        foreach (Node node in index.Graph.Nodes)
        {
            foreach (NodeAttribute branch in Of(node))
            {
                foreach (GraphIndex inner in Walk(index.Branch(branch.Graph!)))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Every node of the main graph and of its If branches, with the index of the graph it is in.</summary>
    public static IEnumerable<(Node Node, GraphIndex Scope)> Nodes(OnnxModel model) =>
        Walk(new GraphIndex(model)).SelectMany(scope => scope.Graph.Nodes.Select(n => (n, scope)));

    /// <summary>Every node of <paramref name="node"/>'s subgraphs at any depth (Constant nodes included).</summary>
    public static IEnumerable<Node> AllNodes(Node node)
    {
        foreach (NodeAttribute attribute in node.Attributes)
        {
            IEnumerable<Graph> graphs = attribute.Graph is null ? attribute.Graphs : attribute.Graphs.Prepend(attribute.Graph);
            foreach (Node inner in graphs.SelectMany(g => g.Nodes))
            {
                yield return inner;
                foreach (Node deeper in AllNodes(inner))
                {
                    yield return deeper;
                }
            }
        }
    }
}

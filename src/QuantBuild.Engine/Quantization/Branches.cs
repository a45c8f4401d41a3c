using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Rewrites;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// The subgraphs the encoder quantizes like the main graph: the then/else branches of <c>If</c> nodes and the bodies
/// of <c>Loop</c> and <c>Scan</c> nodes, nested in any combination. Calibration observes a branch's tensors as extra
/// outputs of the branch and of its If, a body's as extra scan outputs of the body and of its Loop/Scan, which ONNX
/// Runtime stacks over the iterations (<see cref="Calibration.BranchExposure"/>).
/// </summary>
internal static class Branches
{
    /// <summary>Why a node of an If branch calibration never ran stays fp32: no range is guessed for it.</summary>
    public const string NotReached = "branch not reached by the calibration data";

    /// <summary>Why a node of a Loop/Scan body that ran no iteration on the calibration data stays fp32.</summary>
    public const string NotIterated = "loop body never ran on the calibration data (0 iterations)";

    /// <summary>Why every node of a subgraph of an op other than If/Loop/Scan stays fp32.</summary>
    public const string BodyReason = "control flow: subgraphs of this op stay fp32 (only If branches and Loop/Scan bodies are quantized)";

    /// <summary>Why a node whose activation is a body tensor with a different shape in different iterations stays fp32.</summary>
    public static string Varying(string tensor) =>
        $"'{tensor}' changes shape between loop iterations (or is in an If branch only some iterations take): calibration observes a body tensor as a scan output, which needs one shape in every iteration";

    /// <summary>True for an ONNX <c>If</c> node.</summary>
    public static bool IsIf(Node node) => node.IsDefaultDomain && node.OpType == "If";

    /// <summary>True for an ONNX <c>Loop</c> or <c>Scan</c> node, whose body runs once per iteration.</summary>
    public static bool IsLoop(Node node) => node.IsDefaultDomain && node.OpType is "Loop" or "Scan";

    /// <summary>
    /// The subgraph attributes of <paramref name="node"/> quantized like the main graph (an If's then_branch and
    /// else_branch, a Loop's or Scan's body), or none for any other node.
    /// </summary>
    public static IEnumerable<NodeAttribute> Of(Node node) =>
        IsIf(node) || IsLoop(node) ? node.Attributes.Where(a => a.Graph is not null) : Enumerable.Empty<NodeAttribute>();

    /// <summary>
    /// True when <paramref name="tensor"/> is the subgraph's own: computed by one of its nodes, or (in a Loop/Scan body)
    /// one of its inputs (iteration count, condition, carried state, scan slice), which differ per iteration.
    /// </summary>
    public static bool IsOwn(GraphIndex scope, string tensor) =>
        scope.Producer(tensor) is not null || (scope.Outer is not null && scope.Graph.Inputs.Any(i => i.Name == tensor));

    /// <summary><paramref name="index"/> and the index of every If branch and Loop/Scan body under it, depth-first in graph order.</summary>
    public static IEnumerable<GraphIndex> Walk(GraphIndex index)
    {
        yield return index;
        foreach (Node node in index.Graph.Nodes)
        {
            foreach (NodeAttribute branch in Of(node))
            {
                foreach (GraphIndex inner in Walk(index.Branch(branch.Graph!, IsLoop(node))))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Every node of the main graph and of its If branches and Loop/Scan bodies, with the index of the graph it is in.</summary>
    public static IEnumerable<(Node Node, GraphIndex Scope)> Nodes(OnnxModel model) =>
        Walk(new GraphIndex(model)).SelectMany(scope => scope.Graph.Nodes.Select(n => (n, scope)));

    /// <summary>
    /// Every named node of <see cref="Nodes"/> by name (the first one, graph order, where names repeat), with the index of
    /// the graph it is in: where a layer of a branch or body finds its weight, producers and consumers.
    /// </summary>
    public static Dictionary<string, (Node Node, GraphIndex Scope)> ByName(OnnxModel model) =>
        Nodes(model).Where(n => !string.IsNullOrEmpty(n.Node.Name)).GroupBy(n => n.Node.Name!)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    /// <summary>Every node of <paramref name="node"/>'s subgraphs at any depth (Constant nodes included).</summary>
    public static IEnumerable<Node> AllNodes(Node node) => GraphWalk.Subgraphs(node).SelectMany(GraphWalk.AllNodes);
}

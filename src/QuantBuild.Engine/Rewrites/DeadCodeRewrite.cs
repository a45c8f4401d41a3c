using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Removes initializers and Constant nodes nothing reads (no node, no subgraph body, no graph output). Exporters leave
/// them, folding leaves the originals of what it replaced, and ONNX Runtime prints two warnings for each one on every
/// session it opens (a recognizer's model had 168). An initializer that is also a graph input stays: it is an input
/// with a default, and removing the default would make the input required.
/// </summary>
internal sealed class DeadCodeRewrite : IGraphRewrite
{
    public string Name => "dead-code";

    public RewriteResult Apply(OnnxModel model) => RewriteResult.Of(Name, Sweep(model.Graph, subgraphs: true));

    /// <summary>
    /// Removes unread initializers and Constant nodes from <paramref name="graph"/> (and, with
    /// <paramref name="subgraphs"/>, from every If/Loop/Scan body in it); returns their names.
    /// </summary>
    public static List<string> Sweep(Graph graph, bool subgraphs)
    {
        var removed = new List<string>();
        if (subgraphs)
        {
            foreach (Graph body in graph.Nodes.SelectMany(GraphWalk.Subgraphs))
            {
                removed.AddRange(Sweep(body, subgraphs: true));
            }
        }

        HashSet<string> read = GraphWalk.ReadNames(graph);
        var inputs = new HashSet<string>(graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        foreach (Node node in graph.Nodes.Where(n => n.IsDefaultDomain && n.OpType == "Constant" && !n.Outputs.Any(read.Contains)).ToList())
        {
            graph.Nodes.Remove(node);
            removed.Add(node.DisplayName);
        }

        foreach (TensorValue t in graph.Initializers.Where(t => t.Name is { } n && !read.Contains(n) && !inputs.Contains(n)).ToList())
        {
            graph.Initializers.Remove(t);
            removed.Add(t.Name!);
        }

        return removed;
    }
}

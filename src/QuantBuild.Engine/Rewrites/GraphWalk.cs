using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Rewrites;

/// <summary>Subgraph bodies (If/Loop/Scan) and the outer names they read, which every rewrite must treat as uses.</summary>
internal static class GraphWalk
{
    public static IEnumerable<Graph> Subgraphs(Node node)
    {
        foreach (NodeAttribute attribute in node.Attributes)
        {
            if (attribute.Graph is not null)
            {
                yield return attribute.Graph;
            }

            foreach (Graph g in attribute.Graphs)
            {
                yield return g;
            }
        }
    }

    public static bool HasSubgraphs(Node node) => node.Attributes.Any(a => a.Graph is not null || a.Graphs.Count > 0);

    /// <summary>Every node of <paramref name="graph"/> and of its subgraphs, depth first.</summary>
    public static IEnumerable<Node> AllNodes(Graph graph)
    {
        foreach (Node node in graph.Nodes)
        {
            yield return node;
            foreach (Graph g in Subgraphs(node))
            {
                foreach (Node inner in AllNodes(g))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Names a graph's nodes and outputs read, subgraph bodies' outer references included.</summary>
    public static HashSet<string> ReadNames(Graph graph)
    {
        var read = new HashSet<string>(StringComparer.Ordinal);
        foreach (ValueInfo output in graph.Outputs)
        {
            read.Add(output.Name);
        }

        foreach (Node node in graph.Nodes)
        {
            foreach (string input in node.Inputs)
            {
                if (input.Length > 0)
                {
                    read.Add(input);
                }
            }

            // A body may read any outer name; what it defines itself shadows nothing we remove, so the union is safe.
            foreach (Graph g in Subgraphs(node))
            {
                read.UnionWith(ReadNames(g));
            }
        }

        return read;
    }
}

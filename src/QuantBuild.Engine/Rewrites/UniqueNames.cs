using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Hands out node and value names that nothing in the model (subgraphs included) uses yet. Deterministic, so the
/// same model always gets the same new names and the rewritten model is byte-identical run to run.
/// </summary>
internal sealed class UniqueNames
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public UniqueNames(Graph graph) => Collect(graph);

    /// <summary><paramref name="wanted"/> if free, else <c>wanted_1</c>, <c>wanted_2</c>...; the name is then taken.</summary>
    public string Take(string wanted)
    {
        string name = wanted;
        for (int n = 1; !_used.Add(name); n++)
        {
            name = $"{wanted}_{n}";
        }

        return name;
    }

    private void Collect(Graph graph)
    {
        foreach (ValueInfo v in graph.Inputs.Concat(graph.Outputs).Concat(graph.ValueInfo))
        {
            _used.Add(v.Name);
        }

        foreach (TensorValue t in graph.Initializers)
        {
            _used.Add(t.Name ?? string.Empty);
        }

        foreach (Node node in graph.Nodes)
        {
            if (node.Name is not null)
            {
                _used.Add(node.Name);
            }

            _used.UnionWith(node.Inputs);
            _used.UnionWith(node.Outputs);
            foreach (Graph g in GraphWalk.Subgraphs(node))
            {
                Collect(g);
            }
        }
    }
}

using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>Hands out names no node, value or initializer of the model (subgraphs included) uses yet; deterministic.</summary>
internal sealed class NameTable
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public NameTable(Graph graph) => Collect(graph);

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
        foreach (ValueInfo v in graph.Inputs)
        {
            _used.Add(v.Name);
        }

        foreach (ValueInfo v in graph.Outputs)
        {
            _used.Add(v.Name);
        }

        foreach (ValueInfo v in graph.ValueInfo)
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
            foreach (NodeAttribute attribute in node.Attributes)
            {
                if (attribute.Graph is not null)
                {
                    Collect(attribute.Graph);
                }

                foreach (Graph g in attribute.Graphs)
                {
                    Collect(g);
                }
            }
        }
    }
}

using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Plugins.SmoothQuant;

/// <summary>
/// Lookups over one graph: producers, consumers, float constants (initializers or <c>Constant</c> nodes). Rewrites
/// of constants always write a fresh initializer for the one node input being changed, so a constant shared with
/// other nodes (tied weights, a scale used twice) is never changed behind their back.
/// </summary>
internal sealed class GraphView
{
    private readonly Graph _graph;
    private readonly Dictionary<string, TensorValue> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorValue> _constantNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Node>> _consumers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GraphView(Graph graph)
    {
        _graph = graph;
        Refresh();
    }

    public Graph Graph => _graph;

    /// <summary>Rebuilds the lookups after nodes or initializers changed.</summary>
    public void Refresh()
    {
        _initializers.Clear();
        _constantNodes.Clear();
        _producers.Clear();
        _consumers.Clear();
        _graphOutputs.Clear();
        _names.Clear();
        foreach (TensorValue t in _graph.Initializers)
        {
            if (t.Name is not null)
            {
                _initializers[t.Name] = t;
                _names.Add(t.Name);
            }
        }

        foreach (Node node in _graph.Nodes)
        {
            foreach (string output in node.Outputs)
            {
                if (output.Length > 0)
                {
                    _producers[output] = node;
                    _names.Add(output);
                }
            }

            foreach (string input in node.Inputs)
            {
                if (input.Length == 0)
                {
                    continue;
                }

                if (!_consumers.TryGetValue(input, out List<Node>? list))
                {
                    _consumers[input] = list = new List<Node>();
                }

                if (!list.Contains(node))
                {
                    list.Add(node);
                }
            }

            if (node.OpType == "Constant" && node.IsDefaultDomain && node.Outputs.Count == 1 && node.FindAttribute("value")?.Tensor is TensorValue value)
            {
                _constantNodes[node.Outputs[0]] = value;
            }
        }

        foreach (ValueInfo output in _graph.Outputs)
        {
            _graphOutputs.Add(output.Name);
        }

        foreach (ValueInfo input in _graph.Inputs)
        {
            _names.Add(input.Name);
        }
    }

    public Node? Producer(string tensor) => _producers.GetValueOrDefault(tensor);

    public IReadOnlyList<Node> Consumers(string tensor) => _consumers.TryGetValue(tensor, out List<Node>? list) ? list : Array.Empty<Node>();

    public bool IsGraphOutput(string tensor) => _graphOutputs.Contains(tensor);

    /// <summary>True when <paramref name="tensor"/> is a constant (initializer or Constant node output) of any type.</summary>
    public bool IsConstant(string tensor) => _initializers.ContainsKey(tensor) || _constantNodes.ContainsKey(tensor);

    /// <summary>The float constant named <paramref name="tensor"/>, copied, with its dims; null when it is not one.</summary>
    public float[]? FloatConstant(string tensor, out long[] dims)
    {
        dims = Array.Empty<long>();
        TensorValue? value = _initializers.GetValueOrDefault(tensor) ?? _constantNodes.GetValueOrDefault(tensor);
        if (value is null || value.ElementType != ElementType.Float || value.Data.Length != value.ElementCount * sizeof(float))
        {
            return null;
        }

        dims = (long[])value.Dims.Clone();
        return MemoryMarshal.Cast<byte, float>(value.Data.Span).ToArray();
    }

    /// <summary>
    /// Replaces input <paramref name="index"/> of <paramref name="node"/> with a new initializer holding
    /// <paramref name="values"/>; the old constant is removed when nothing reads it any more.
    /// </summary>
    public void ReplaceConstantInput(Node node, int index, float[] values, long[] dims, string suffix = "smoothed")
    {
        string old = node.Inputs[index];
        string name = UniqueName($"{old}_{suffix}");
        TensorValue replacement = TensorValue.FromFloats(name, values, dims);
        _graph.Initializers.Add(replacement);
        _initializers[name] = replacement;
        node.Inputs.Replace(index, name);
        _names.Add(name);
        RemoveIfUnused(old);
    }

    /// <summary>A tensor name not yet used in the graph, starting from <paramref name="wanted"/>.</summary>
    public string UniqueName(string wanted)
    {
        string name = wanted;
        for (int i = 1; _names.Contains(name); i++)
        {
            name = $"{wanted}_{i}";
        }

        _names.Add(name);
        return name;
    }

    private void RemoveIfUnused(string tensor)
    {
        foreach (Node n in _graph.Nodes)
        {
            // A subgraph (If/Loop body) may read the constant from the outer scope: keep it then.
            if (n.Inputs.Contains(tensor) || n.Attributes.Any(a => a.Graph is not null || a.Graphs.Count > 0))
            {
                return;
            }
        }

        if (_graphOutputs.Contains(tensor))
        {
            return;
        }

        _graph.Initializers.RemoveAll(t => t.Name == tensor);
        _graph.Nodes.RemoveAll(n => n.OpType == "Constant" && n.Outputs.Count == 1 && n.Outputs[0] == tensor);
    }
}

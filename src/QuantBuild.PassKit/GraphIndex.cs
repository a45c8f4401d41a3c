using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.PassKit;

/// <summary>
/// Lookups over one graph: producers, consumers, graph inputs and outputs, and constants wherever the exporter put
/// them (initializers or <c>Constant</c> nodes). An initializer that is also a graph input (IR 4 and later) is not a
/// constant: the caller may feed another value. Names read inside If/Loop/Scan bodies count as used. Rewrites of
/// constants go through the index, which keeps its lookups current; after changing the graph by other means call
/// <see cref="Refresh"/>.
/// </summary>
public sealed class GraphIndex
{
    private readonly long? _irVersion;
    private readonly Dictionary<string, TensorValue> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _constantNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Node>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _uses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _subgraphReads = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphInputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Indexes <paramref name="model"/>'s main graph (its IR version decides whether initializers may be inputs).</summary>
    public GraphIndex(OnnxModel model)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Graph, model.IrVersion)
    {
    }

    /// <summary>Indexes <paramref name="graph"/>; <paramref name="irVersion"/> null means initializers listed as inputs are overridable.</summary>
    public GraphIndex(Graph graph, long? irVersion = null)
    {
        Graph = graph ?? throw new ArgumentNullException(nameof(graph));
        _irVersion = irVersion;
        Refresh();
    }

    /// <summary>The indexed graph.</summary>
    public Graph Graph { get; }

    /// <summary>Rebuilds every lookup after the graph changed other than through this index.</summary>
    public void Refresh()
    {
        _constants.Clear();
        _constantNodes.Clear();
        _producers.Clear();
        _consumers.Clear();
        _uses.Clear();
        _subgraphReads.Clear();
        _graphInputs.Clear();
        _graphOutputs.Clear();
        _names.Clear();
        foreach (ValueInfo input in Graph.Inputs)
        {
            _graphInputs.Add(input.Name);
            _names.Add(input.Name);
        }

        bool overridable = _irVersion is null or >= 4;
        foreach (TensorValue t in Graph.Initializers)
        {
            if (t.Name is not { Length: > 0 } name)
            {
                continue;
            }

            _names.Add(name);
            if (!(overridable && _graphInputs.Contains(name)))
            {
                _constants[name] = t;
            }
        }

        foreach (Node node in Graph.Nodes)
        {
            IndexNode(node);
        }

        foreach (ValueInfo output in Graph.Outputs)
        {
            _graphOutputs.Add(output.Name);
        }
    }

    /// <summary>The node that produces <paramref name="tensor"/>, or null (graph inputs, initializers).</summary>
    public Node? Producer(string tensor) => _producers.GetValueOrDefault(tensor);

    /// <summary>The nodes of this graph that read <paramref name="tensor"/>, each once, in graph order.</summary>
    public IReadOnlyList<Node> Consumers(string tensor) => _consumers.TryGetValue(tensor, out List<Node>? list) ? list : [];

    /// <summary>How many node inputs read <paramref name="tensor"/>, plus one when a subgraph body reads it.</summary>
    public int UseCount(string tensor) => _uses.GetValueOrDefault(tensor) + (_subgraphReads.Contains(tensor) ? 1 : 0);

    /// <summary>True when an If/Loop/Scan body of this graph reads <paramref name="tensor"/> from the outer scope.</summary>
    public bool IsReadBySubgraph(string tensor) => _subgraphReads.Contains(tensor);

    /// <summary>True when <paramref name="tensor"/> is one of the graph's outputs.</summary>
    public bool IsGraphOutput(string tensor) => _graphOutputs.Contains(tensor);

    /// <summary>True when <paramref name="tensor"/> is one of the graph's inputs.</summary>
    public bool IsGraphInput(string tensor) => _graphInputs.Contains(tensor);

    /// <summary>True when <paramref name="tensor"/> is a constant of any element type.</summary>
    public bool IsConstant(string tensor) => _constants.ContainsKey(tensor);

    /// <summary>The constant named <paramref name="tensor"/> (shared, read only), or null.</summary>
    public TensorValue? Constant(string tensor) => _constants.GetValueOrDefault(tensor);

    /// <summary>Where the constant <paramref name="tensor"/> lives, or null when it is not a constant.</summary>
    public ConstantKind? KindOf(string tensor) =>
        !_constants.ContainsKey(tensor) ? null : _constantNodes.ContainsKey(tensor) ? ConstantKind.ConstantNode : ConstantKind.Initializer;

    /// <summary>True when <paramref name="tensor"/> is a float constant whose elements are in memory.</summary>
    public bool IsFloatConstant(string tensor) =>
        _constants.TryGetValue(tensor, out TensorValue? v) && v.ElementType == ElementType.Float && v.Data.Length == v.ElementCount * sizeof(float);

    /// <summary>The float constant named <paramref name="tensor"/>, copied, with its dims; null when it is not one.</summary>
    public float[]? FloatConstant(string tensor, out long[] dims)
    {
        dims = [];
        if (!IsFloatConstant(tensor))
        {
            return null;
        }

        TensorValue value = _constants[tensor];
        dims = (long[])value.Dims.Clone();
        return MemoryMarshal.Cast<byte, float>(value.Data.Span).ToArray();
    }

    /// <summary>
    /// Points input <paramref name="index"/> of <paramref name="node"/> at a new initializer holding
    /// <paramref name="values"/>, leaving any other reader of the old constant untouched; the old constant is removed
    /// when nothing reads it any more. Returns the new name.
    /// </summary>
    public string ReplaceConstantInput(Node node, int index, ReadOnlySpan<float> values, long[] dims, string suffix)
    {
        ArgumentNullException.ThrowIfNull(node);
        string old = node.Inputs[index];
        string name = UniqueName($"{old}_{suffix}");
        TensorValue replacement = TensorValue.FromFloats(name, values, dims);
        Graph.Initializers.Add(replacement);
        _constants[name] = replacement;
        node.Inputs.Replace(index, name);
        Read(name, node);
        Unread(old, node);
        RemoveIfUnused(old);
        return name;
    }

    /// <summary>
    /// Gives the constant <paramref name="tensor"/> a new value under the same name, where it lives: the initializer
    /// is swapped, or the Constant node's <c>value</c>. Every reader sees it; use <see cref="ReplaceConstantInput"/>
    /// to change one reader only.
    /// </summary>
    public void SetConstant(string tensor, TensorValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!_constants.ContainsKey(tensor))
        {
            throw new ArgumentException($"'{tensor}' is not a constant of graph '{Graph.Name}'.", nameof(tensor));
        }

        value.Name = tensor;
        if (_constantNodes.TryGetValue(tensor, out Node? node))
        {
            node.Attributes.RemoveAll(a => a.Name.StartsWith("value", StringComparison.Ordinal));
            node.Attributes.Add(NodeAttribute.FromTensor("value", value));
        }
        else
        {
            int at = Graph.Initializers.FindIndex(t => t.Name == tensor);
            Graph.Initializers.Replace(at, value);
        }

        _constants[tensor] = value;
    }

    /// <summary>Adds a float initializer under a fresh name based on <paramref name="wanted"/> and returns the name.</summary>
    public string AddInitializer(string wanted, ReadOnlySpan<float> values, params long[] dims)
    {
        string name = UniqueName(wanted);
        TensorValue t = TensorValue.FromFloats(name, values, dims);
        Graph.Initializers.Add(t);
        _constants[name] = t;
        return name;
    }

    /// <summary>A tensor name not yet used in the graph, starting from <paramref name="wanted"/>; it counts as used from now on.</summary>
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

    /// <summary>Removes the constant <paramref name="tensor"/> (initializer or Constant node) when no node, subgraph or graph output reads it.</summary>
    public bool RemoveIfUnused(string tensor)
    {
        if (!_constants.ContainsKey(tensor) || UseCount(tensor) > 0 || _graphOutputs.Contains(tensor))
        {
            return false;
        }

        if (_constantNodes.Remove(tensor, out Node? node))
        {
            Graph.Nodes.Remove(node);
            _producers.Remove(tensor);
        }
        else
        {
            Graph.Initializers.RemoveAll(t => t.Name == tensor);
        }

        _constants.Remove(tensor);
        return true;
    }

    private void IndexNode(Node node)
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
            if (input.Length > 0)
            {
                Read(input, node);
            }
        }

        foreach (NodeAttribute a in node.Attributes)
        {
            if (a.Graph is not null)
            {
                CollectReads(a.Graph);
            }

            foreach (Graph g in a.Graphs)
            {
                CollectReads(g);
            }
        }

        if (node.IsDefaultDomain && node.OpType == "Constant" && node.Outputs.Count == 1 && ConstantValue(node) is { } value)
        {
            _constants[node.Outputs[0]] = value;
            _constantNodes[node.Outputs[0]] = node;
        }
    }

    private void Read(string tensor, Node node)
    {
        _uses[tensor] = _uses.GetValueOrDefault(tensor) + 1;
        if (!_consumers.TryGetValue(tensor, out List<Node>? list))
        {
            _consumers[tensor] = list = [];
        }

        if (!list.Contains(node))
        {
            list.Add(node);
        }
    }

    private void Unread(string tensor, Node node)
    {
        int left = _uses.GetValueOrDefault(tensor) - 1;
        _uses[tensor] = Math.Max(0, left);
        if (!node.Inputs.Contains(tensor) && _consumers.TryGetValue(tensor, out List<Node>? list))
        {
            list.Remove(node);
        }
    }

    // Every name a body's nodes read (a superset of what it reads from outside: enough to never drop a live constant).
    private void CollectReads(Graph body)
    {
        foreach (Node n in body.Nodes)
        {
            foreach (string input in n.Inputs)
            {
                if (input.Length > 0)
                {
                    _subgraphReads.Add(input);
                }
            }

            foreach (NodeAttribute a in n.Attributes)
            {
                if (a.Graph is not null)
                {
                    CollectReads(a.Graph);
                }

                foreach (Graph g in a.Graphs)
                {
                    CollectReads(g);
                }
            }
        }
    }

    /// <summary>The value a Constant node holds, from <c>value</c> or the scalar/list float forms exporters also write.</summary>
    private static TensorValue? ConstantValue(Node node)
    {
        foreach (NodeAttribute a in node.Attributes)
        {
            switch (a.Name)
            {
                case "value" when a.Tensor is not null:
                    return a.Tensor;
                case "value_float" when a.Float is float f:
                    return TensorValue.FromFloats(node.Outputs[0], [f]);
                case "value_floats":
                    return TensorValue.FromFloats(node.Outputs[0], a.Floats.ToArray(), a.Floats.Count);
            }
        }

        return null;
    }
}

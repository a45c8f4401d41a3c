using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Who produces and who reads each value of a graph, which values are constants, and the element type of
/// every value we can tell. Subgraph bodies (If/Loop/Scan) count as readers of the outer names they use. An index of
/// an If branch or Loop/Scan body (<see cref="Branch"/>) also sees its enclosing graphs' constants and types, the scope
/// ONNX gives it.
/// </summary>
internal sealed class GraphIndex
{
    private readonly Dictionary<string, List<int>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorValue> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _constantNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ElementType> _types = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _overridableInitializers = new(StringComparer.Ordinal);

    public GraphIndex(OnnxModel model)
        : this(model.Graph, model.IrVersion is null or >= 4, null)
    {
    }

    private GraphIndex(Graph graph, bool initializersMayBeInputs, GraphIndex? outer, bool loopBody = false)
    {
        Graph = graph;
        Outer = outer;
        IsLoopBody = loopBody;
        if (outer is not null)
        {
            // Names are unique across scopes (ONNX SSA), so the branch's own definitions below never clash with these.
            foreach ((string name, TensorValue value) in outer._constants)
            {
                _constants[name] = value;
            }

            foreach ((string name, ElementType type) in outer._types)
            {
                _types[name] = type;
            }
        }

        var inputNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (ValueInfo input in graph.Inputs)
        {
            inputNames.Add(input.Name);
            // A Loop/Scan body's inputs (carried state, scan slices) change every iteration: never an outer constant.
            _constants.Remove(input.Name);
            Learn(input);
        }

        foreach (TensorValue initializer in graph.Initializers)
        {
            string name = initializer.Name ?? string.Empty;
            _types[name] = initializer.ElementType;
            if (initializersMayBeInputs && inputNames.Contains(name))
            {
                // A graph input with a default: the caller may feed another value, so it is not a constant.
                _overridableInitializers.Add(name);
                continue;
            }

            _constants[name] = initializer;
        }

        foreach (ValueInfo info in graph.ValueInfo)
        {
            Learn(info);
        }

        foreach (ValueInfo output in graph.Outputs)
        {
            _graphOutputs.Add(output.Name);
            Learn(output);
        }

        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            Node node = graph.Nodes[i];
            foreach (string input in node.Inputs)
            {
                if (input.Length > 0)
                {
                    ConsumersOf(input, create: true).Add(i);
                }
            }

            foreach (string output in node.Outputs)
            {
                if (output.Length > 0)
                {
                    _producers[output] = i;
                }
            }

            if (node.IsDefaultDomain && node.OpType == "Constant" && node.Outputs.Count == 1
                && node.FindAttribute("value") is { Tensor: { } value })
            {
                _constants[node.Outputs[0]] = value;
                _constantNodes[node.Outputs[0]] = i;
            }

            foreach (string read in SubgraphReferences(node))
            {
                SubgraphReaders.Add(read);
            }

            InferTypes(node);
        }
    }

    public Graph Graph { get; }

    /// <summary>The index of the graph enclosing this branch, or null for the main graph.</summary>
    public GraphIndex? Outer { get; }

    /// <summary>An index of <paramref name="branch"/>, a subgraph of a node of this graph (<paramref name="loopBody"/>: a Loop's or Scan's body).</summary>
    public GraphIndex Branch(Graph branch, bool loopBody = false) => new(branch, initializersMayBeInputs: true, this, loopBody);

    /// <summary>True for the index of a Loop's or Scan's body, which runs once per iteration.</summary>
    public bool IsLoopBody { get; }

    /// <summary>
    /// True when <paramref name="tensor"/>, read in this graph, is a non-constant value defined outside the innermost
    /// Loop/Scan body around it: the same in every iteration, so anything done to it inside the body is redone each time.
    /// </summary>
    public bool IsLoopInvariant(string tensor)
    {
        if (Constant(tensor) is not null)
        {
            return false;
        }

        for (GraphIndex? scope = this; scope is not null; scope = scope.Outer)
        {
            if (scope.Producer(tensor) is not null || scope.Graph.Inputs.Any(i => i.Name == tensor))
            {
                return false;
            }

            if (scope.IsLoopBody)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Names that some subgraph body reads from this graph's scope.</summary>
    public HashSet<string> SubgraphReaders { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<int> Consumers(string tensor) => ConsumersOf(tensor, create: false);

    public int? Producer(string tensor) => _producers.TryGetValue(tensor, out int i) ? i : null;

    public bool IsGraphOutput(string tensor) => _graphOutputs.Contains(tensor);

    public bool IsOverridableInitializer(string tensor) => _overridableInitializers.Contains(tensor);

    public TensorValue? Constant(string tensor) => _constants.TryGetValue(tensor, out TensorValue? t) ? t : null;

    public int? ConstantNode(string tensor) => _constantNodes.TryGetValue(tensor, out int i) ? i : null;

    public ElementType TypeOf(string tensor) => _types.TryGetValue(tensor, out ElementType t) ? t : ElementType.Undefined;

    /// <summary>Every value name a node's subgraphs read, recursively, that they do not define themselves.</summary>
    public static IEnumerable<string> SubgraphReferences(Node node)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (NodeAttribute attribute in node.Attributes)
        {
            if (attribute.Graph is not null)
            {
                CollectFree(attribute.Graph, found);
            }

            foreach (Graph g in attribute.Graphs)
            {
                CollectFree(g, found);
            }
        }

        return found;
    }

    private static void CollectFree(Graph graph, SortedSet<string> found)
    {
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (ValueInfo input in graph.Inputs)
        {
            defined.Add(input.Name);
        }

        foreach (TensorValue initializer in graph.Initializers)
        {
            defined.Add(initializer.Name ?? string.Empty);
        }

        foreach (Node node in graph.Nodes)
        {
            foreach (string input in node.Inputs)
            {
                if (input.Length > 0 && !defined.Contains(input))
                {
                    found.Add(input);
                }
            }

            foreach (string inner in SubgraphReferences(node))
            {
                if (!defined.Contains(inner))
                {
                    found.Add(inner);
                }
            }

            foreach (string output in node.Outputs)
            {
                defined.Add(output);
            }
        }

        foreach (ValueInfo output in graph.Outputs)
        {
            if (!defined.Contains(output.Name))
            {
                found.Add(output.Name);
            }
        }
    }

    private List<int> ConsumersOf(string tensor, bool create)
    {
        if (!_consumers.TryGetValue(tensor, out List<int>? list))
        {
            list = new List<int>();
            if (create)
            {
                _consumers[tensor] = list;
            }
        }

        return list;
    }

    private void Learn(ValueInfo info)
    {
        if (info.TensorType is { } t && t.ElementType != ElementType.Undefined)
        {
            _types[info.Name] = t.ElementType;
        }
    }

    // Just enough type inference to tell float activations from shape and index tensors, for models without value_info.
    private void InferTypes(Node node)
    {
        ElementType inferred = ElementType.Undefined;
        if (!node.IsDefaultDomain)
        {
            return;
        }

        switch (node.OpType)
        {
            case "Constant":
                inferred = node.FindAttribute("value")?.Tensor?.ElementType ?? ElementType.Undefined;
                break;
            case "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin":
                inferred = ElementType.Int64;
                break;
            case "Cast":
                inferred = (ElementType)(node.FindAttribute("to")?.Int ?? 0);
                break;
            case "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor" or "IsNaN" or "IsInf":
                inferred = ElementType.Bool;
                break;
            case "Where":
                inferred = node.Inputs.Count > 1 ? TypeOf(node.Inputs[1]) : ElementType.Undefined;
                break;
            case "ConstantOfShape":
                inferred = node.FindAttribute("value")?.Tensor?.ElementType ?? ElementType.Float;
                break;
            case "If":
                // Each output has the type its then-branch output declares (ONNX requires both branches to agree).
                if (node.FindAttribute("then_branch")?.Graph is { } then)
                {
                    for (int o = 0; o < node.Outputs.Count && o < then.Outputs.Count; o++)
                    {
                        if (node.Outputs[o].Length > 0 && then.Outputs[o].TensorType is { ElementType: not ElementType.Undefined } t)
                        {
                            _types.TryAdd(node.Outputs[o], t.ElementType);
                        }
                    }
                }

                return;
            case "Loop" or "Scan":
                // A Loop's body outputs are the condition, then what its outputs are (final carried values, stacked scan
                // outputs) in order; a Scan's are its outputs in order. The element types are the same.
                if (node.FindAttribute("body")?.Graph is { } body)
                {
                    int skip = node.OpType == "Loop" ? 1 : 0;
                    for (int o = 0; o < node.Outputs.Count && o + skip < body.Outputs.Count; o++)
                    {
                        if (node.Outputs[o].Length > 0 && body.Outputs[o + skip].TensorType is { ElementType: not ElementType.Undefined } t)
                        {
                            _types.TryAdd(node.Outputs[o], t.ElementType);
                        }
                    }
                }

                return;
            case "TopK" or "QuantizeLinear" or "DynamicQuantizeLinear":
                return;
            default:
                inferred = node.Inputs.Count > 0 ? TypeOf(node.Inputs[0]) : ElementType.Undefined;
                break;
        }

        if (inferred == ElementType.Undefined)
        {
            return;
        }

        foreach (string output in node.Outputs)
        {
            if (output.Length > 0 && !_types.ContainsKey(output))
            {
                _types[output] = inferred;
            }
        }
    }
}

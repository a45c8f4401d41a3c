using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// The element type and rank of the values of one graph, as far as the file declares them or they follow from a
/// node's inputs; a subgraph's facts fall back to its outer graph's. Just enough for conversions that must emit a
/// constant of the input's type (Clip bounds) or know whether an axis is the last one (Softmax).
/// </summary>
internal sealed class ValueFacts
{
    private readonly Dictionary<string, ElementType> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ranks = new(StringComparer.Ordinal);
    private readonly ValueFacts? _outer;

    public ValueFacts(Graph graph, ValueFacts? outer = null)
    {
        _outer = outer;
        foreach (ValueInfo v in graph.Inputs.Concat(graph.ValueInfo).Concat(graph.Outputs))
        {
            if (v.TensorType is { } t)
            {
                if (t.ElementType != ElementType.Undefined)
                {
                    _types[v.Name] = t.ElementType;
                }

                if (t.Shape is { } shape)
                {
                    _ranks[v.Name] = shape.Rank;
                }
            }
        }

        foreach (TensorValue t in graph.Initializers)
        {
            _types[t.Name ?? string.Empty] = t.ElementType;
            _ranks[t.Name ?? string.Empty] = t.Dims.Length;
        }

        foreach (Node node in graph.Nodes)
        {
            Learn(node);
        }
    }

    public ElementType TypeOf(string name) =>
        _types.TryGetValue(name, out ElementType t) ? t : _outer?.TypeOf(name) ?? ElementType.Undefined;

    public int? RankOf(string name) => _ranks.TryGetValue(name, out int r) ? r : _outer?.RankOf(name);

    private void Learn(Node node)
    {
        if (!node.IsDefaultDomain || node.Outputs.Count == 0 || node.Outputs[0].Length == 0)
        {
            return;
        }

        string output = node.Outputs[0];
        string first = node.Inputs.Count > 0 ? node.Inputs[0] : string.Empty;
        ElementType type = node.OpType switch
        {
            "Constant" => GraphConstants.ValueOf(node)?.ElementType ?? ElementType.Undefined,
            "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin" => ElementType.Int64,
            "Cast" => (ElementType)(node.FindAttribute("to")?.Int ?? 0),
            "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor" or "IsNaN" or "IsInf" => ElementType.Bool,
            "ConstantOfShape" => node.FindAttribute("value")?.Tensor?.ElementType ?? ElementType.Float,
            "Where" => node.Inputs.Count > 1 ? TypeOf(node.Inputs[1]) : ElementType.Undefined,
            "If" or "Loop" or "Scan" or "QuantizeLinear" or "DynamicQuantizeLinear" => ElementType.Undefined,
            _ => first.Length > 0 ? TypeOf(first) : ElementType.Undefined,
        };
        if (type != ElementType.Undefined)
        {
            _types.TryAdd(output, type);
        }

        // Element-wise ops keep their input's rank; that is the chain a Softmax usually sits at the end of.
        if (node.OpType is "Relu" or "Sigmoid" or "Tanh" or "Exp" or "Log" or "Neg" or "Abs" or "Sqrt" or "Identity" or "Dropout"
            or "Clip" or "LeakyRelu" or "Elu" or "HardSigmoid" or "Softmax" or "LogSoftmax" or "Erf" or "Cast"
            && first.Length > 0 && RankOf(first) is { } rank)
        {
            _ranks.TryAdd(output, rank);
        }
    }
}

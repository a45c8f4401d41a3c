using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// The constant values of one graph: initializers a caller cannot override, and Constant nodes' outputs (exporters
/// such as PaddlePaddle's and some of PyTorch's write weights that way).
/// </summary>
internal sealed class GraphConstants
{
    private readonly Dictionary<string, TensorValue> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _constantNodes = new(StringComparer.Ordinal);

    /// <param name="graph">The graph whose constants these are.</param>
    /// <param name="irVersion">The model's IR version (initializers that are inputs count as constants before 4).</param>
    /// <param name="outer">For an If branch or a Loop/Scan body, the constants of the graph around it, which it may read.</param>
    public GraphConstants(Graph graph, long? irVersion, GraphConstants? outer = null)
    {
        if (outer is not null)
        {
            foreach ((string name, TensorValue value) in outer._values)
            {
                _values[name] = value;
            }
        }

        // From IR 4 on an initializer that is also a graph input is a default the caller may replace.
        var inputs = irVersion is null or >= 4
            ? new HashSet<string>(graph.Inputs.Select(i => i.Name), StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
        if (outer is not null)
        {
            // A Loop/Scan body's inputs (carried state, scan slices) change every iteration: never an outer constant.
            foreach (ValueInfo input in graph.Inputs)
            {
                _values.Remove(input.Name);
            }
        }

        foreach (TensorValue t in graph.Initializers)
        {
            if (t.Name is { } name && !inputs.Contains(name))
            {
                _values[name] = t;
            }
        }

        foreach (Node node in graph.Nodes)
        {
            if (node.IsDefaultDomain && node.OpType == "Constant" && node.Outputs.Count == 1 && ValueOf(node) is { } value)
            {
                _values[node.Outputs[0]] = value;
                _constantNodes[node.Outputs[0]] = node;
            }
        }
    }

    public TensorValue? Find(string name) => name.Length > 0 && _values.TryGetValue(name, out TensorValue? t) ? t : null;

    public bool IsConstant(string name) => name.Length > 0 && _values.ContainsKey(name);

    /// <summary>The values of a constant float tensor, or null when it is absent or not float.</summary>
    public float[]? Floats(string name) => Find(name) is { ElementType: ElementType.Float } t ? MemoryMarshal.Cast<byte, float>(t.Data.Span).ToArray() : null;

    /// <summary>The tensor a Constant node holds, whichever of its value attributes the exporter used.</summary>
    public static TensorValue? ValueOf(Node node)
    {
        foreach (NodeAttribute a in node.Attributes)
        {
            switch (a.Name)
            {
                case "value" when a.Tensor is not null:
                    return a.Tensor;
                case "value_float" when a.Float is { } f:
                    return TensorValue.FromFloats(string.Empty, [f]);
                case "value_floats":
                    return TensorValue.FromFloats(string.Empty, a.Floats.ToArray(), a.Floats.Count);
                case "value_int" when a.Int is { } i:
                    return Int64s(string.Empty, [i], []);
                case "value_ints":
                    return Int64s(string.Empty, a.Ints.ToArray(), a.Ints.Count);
            }
        }

        return null;
    }

    public static TensorValue Int64s(string name, long[] values, params long[] dims) =>
        TensorValue.FromDense(name, DenseTensor.Create(ElementType.Int64, values.AsSpan(), dims));

    /// <summary>A 0-d tensor of <paramref name="type"/> holding <paramref name="value"/> (Clip bounds, Pad's fill value).</summary>
    public static TensorValue? Scalar(string name, ElementType type, double value)
    {
        DenseTensor? t = type switch
        {
            ElementType.Float => DenseTensor.Create(type, [(float)value], []),
            ElementType.Double => DenseTensor.Create(type, [value], []),
            ElementType.Float16 => DenseTensor.Create(type, [(Half)value], []),
            ElementType.BFloat16 => DenseTensor.Create(type, [(ushort)(BitConverter.SingleToUInt32Bits((float)value) >> 16)], []),
            ElementType.Int8 => DenseTensor.Create(type, [(sbyte)Math.Clamp(value, sbyte.MinValue, sbyte.MaxValue)], []),
            ElementType.UInt8 => DenseTensor.Create(type, [(byte)Math.Clamp(value, 0, byte.MaxValue)], []),
            ElementType.Int32 => DenseTensor.Create(type, [(int)Math.Clamp(value, int.MinValue, int.MaxValue)], []),
            ElementType.Int64 => DenseTensor.Create(type, [(long)Math.Clamp(value, long.MinValue, long.MaxValue)], []),
            _ => null,
        };
        return t is null ? null : TensorValue.FromDense(name, t);
    }
}

using System.Text;

namespace QuantBuild.Abstractions.Ir;

/// <summary>
/// A named attribute of a node or a function's default (ONNX AttributeProto). Exactly the fields that match
/// <see cref="Type"/> are meaningful; the others stay null or empty. Scalars are nullable so that a field the
/// file omits is not invented on save.
/// </summary>
public sealed class NodeAttribute
{
    /// <summary>The attribute's name, for example <c>strides</c>.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Which value this attribute holds.</summary>
    public AttributeType Type { get; set; }

    /// <summary>Inside a function body: the name of the caller's attribute this one refers to.</summary>
    public string? RefAttrName { get; set; }

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>The value for <see cref="AttributeType.Float"/>.</summary>
    public float? Float { get; set; }

    /// <summary>The value for <see cref="AttributeType.Int"/>.</summary>
    public long? Int { get; set; }

    /// <summary>The value for <see cref="AttributeType.String"/>, as bytes (ONNX strings are not required to be UTF-8).</summary>
    public byte[]? String { get; set; }

    /// <summary>The value for <see cref="AttributeType.Tensor"/>.</summary>
    public TensorValue? Tensor { get; set; }

    /// <summary>The value for <see cref="AttributeType.Graph"/>.</summary>
    public Graph? Graph { get; set; }

    /// <summary>The value for <see cref="AttributeType.SparseTensor"/>.</summary>
    public SparseTensorValue? SparseTensor { get; set; }

    /// <summary>The value for <see cref="AttributeType.TypeProto"/>.</summary>
    public TypeInfo? TypeInfo { get; set; }

    /// <summary>The values for <see cref="AttributeType.Floats"/>.</summary>
    public IrList<float> Floats { get; } = new();

    /// <summary>The values for <see cref="AttributeType.Ints"/>.</summary>
    public IrList<long> Ints { get; } = new();

    /// <summary>The values for <see cref="AttributeType.Strings"/>.</summary>
    public IrList<byte[]> Strings { get; } = new();

    /// <summary>The values for <see cref="AttributeType.Tensors"/>.</summary>
    public IrList<TensorValue> Tensors { get; } = new();

    /// <summary>The values for <see cref="AttributeType.Graphs"/>.</summary>
    public IrList<Graph> Graphs { get; } = new();

    /// <summary>The values for <see cref="AttributeType.SparseTensors"/>.</summary>
    public IrList<SparseTensorValue> SparseTensors { get; } = new();

    /// <summary>The values for <see cref="AttributeType.TypeProtos"/>.</summary>
    public IrList<TypeInfo> TypeInfos { get; } = new();

    /// <summary>The string value decoded as UTF-8, or null.</summary>
    public string? StringValue => String is null ? null : Encoding.UTF8.GetString(String);

    /// <summary>An integer attribute.</summary>
    public static NodeAttribute FromInt(string name, long value) => new() { Name = name, Type = AttributeType.Int, Int = value };

    /// <summary>A float attribute.</summary>
    public static NodeAttribute FromFloat(string name, float value) => new() { Name = name, Type = AttributeType.Float, Float = value };

    /// <summary>A UTF-8 string attribute.</summary>
    public static NodeAttribute FromString(string name, string value) => new() { Name = name, Type = AttributeType.String, String = Encoding.UTF8.GetBytes(value) };

    /// <summary>A tensor attribute.</summary>
    public static NodeAttribute FromTensor(string name, TensorValue value) => new() { Name = name, Type = AttributeType.Tensor, Tensor = value };

    /// <summary>A subgraph attribute.</summary>
    public static NodeAttribute FromGraph(string name, Graph value) => new() { Name = name, Type = AttributeType.Graph, Graph = value };

    /// <summary>An integer-list attribute.</summary>
    public static NodeAttribute FromInts(string name, params long[] values)
    {
        var attribute = new NodeAttribute { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A float-list attribute.</summary>
    public static NodeAttribute FromFloats(string name, params float[] values)
    {
        var attribute = new NodeAttribute { Name = name, Type = AttributeType.Floats };
        attribute.Floats.AddRange(values);
        return attribute;
    }
}

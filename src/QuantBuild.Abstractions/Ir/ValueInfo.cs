namespace QuantBuild.Abstractions.Ir;

/// <summary>A named value with its type: a graph input, output, or annotated intermediate (ONNX ValueInfoProto).</summary>
public sealed class ValueInfo
{
    /// <summary>The value's name.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The value's type, or null when the file does not say.</summary>
    public TypeInfo? Type { get; set; }

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>Named metadata.</summary>
    public IrList<MetadataEntry> MetadataProps { get; } = new();

    /// <summary>The tensor type, if this value is a dense tensor.</summary>
    public TensorTypeInfo? TensorType => Type as TensorTypeInfo;
}

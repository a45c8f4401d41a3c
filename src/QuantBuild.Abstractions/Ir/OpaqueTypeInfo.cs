namespace QuantBuild.Abstractions.Ir;

/// <summary>A type defined by a custom domain that ONNX does not look inside.</summary>
public sealed class OpaqueTypeInfo : TypeInfo
{
    /// <summary>The defining domain.</summary>
    public string? Domain { get; set; }

    /// <summary>The type's name within the domain.</summary>
    public string? Name { get; set; }
}

namespace QuantBuild.Abstractions.Ir;

/// <summary>A value that may be absent.</summary>
public sealed class OptionalTypeInfo : TypeInfo
{
    /// <summary>The type when present, or null if unspecified.</summary>
    public TypeInfo? ElementType { get; set; }
}

namespace QuantBuild.Abstractions.Ir;

/// <summary>A sequence of values of one type.</summary>
public sealed class SequenceTypeInfo : TypeInfo
{
    /// <summary>The type of each element, or null if unspecified.</summary>
    public TypeInfo? ElementType { get; set; }
}

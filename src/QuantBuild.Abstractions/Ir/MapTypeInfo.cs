using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Ir;

/// <summary>A map from a scalar key type to values of one type.</summary>
public sealed class MapTypeInfo : TypeInfo
{
    /// <summary>The key type (an integer type or string).</summary>
    public ElementType KeyType { get; set; }

    /// <summary>The value type, or null if unspecified.</summary>
    public TypeInfo? ValueType { get; set; }
}

using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Ir;

/// <summary>A dense tensor type: element type and, if known, shape.</summary>
public class TensorTypeInfo : TypeInfo
{
    /// <summary>The element type.</summary>
    public ElementType ElementType { get; set; }

    /// <summary>The shape, or null when even the rank is unknown.</summary>
    public TensorShape? Shape { get; set; }
}

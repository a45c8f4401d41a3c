namespace QuantBuild.Engine.Inspection;

/// <summary>A graph input or output as <c>quantbuild inspect</c> reports it.</summary>
/// <param name="Name">The value's name.</param>
/// <param name="ElementType">ONNX spelling of the element type (for example <c>float</c>), or the kind for non-tensors.</param>
/// <param name="Shape">Each dimension as a number, a symbol such as <c>batch</c>, or <c>?</c>; null when the rank is unknown.</param>
public sealed record ValueSummary(string Name, string ElementType, IReadOnlyList<string>? Shape)
{
    /// <summary>Renders the shape as <c>[batch,1,28,28]</c>, or <c>(unknown rank)</c>.</summary>
    public string ShapeText => Shape is null ? "(unknown rank)" : $"[{string.Join(",", Shape)}]";
}

namespace QuantBuild.Abstractions.Ir;

/// <summary>
/// The type of a value (ONNX TypeProto). Subclasses say which kind; a plain <see cref="TypeInfo"/> is a type the
/// file left unspecified.
/// </summary>
public class TypeInfo
{
    /// <summary>Optional semantic denotation, for example <c>IMAGE</c>.</summary>
    public string? Denotation { get; set; }
}

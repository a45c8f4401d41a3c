namespace QuantBuild.Abstractions.Ir;

/// <summary>A model-local function that nodes can call by (domain, name, overload) (ONNX FunctionProto).</summary>
public sealed class FunctionDef
{
    /// <summary>The function's name; nodes call it as their op type.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The function's domain.</summary>
    public string? Domain { get; set; }

    /// <summary>Distinguishes functions that share a domain and name.</summary>
    public string? Overload { get; set; }

    /// <summary>Formal input names.</summary>
    public IrList<string> Inputs { get; } = new();

    /// <summary>Formal output names.</summary>
    public IrList<string> Outputs { get; } = new();

    /// <summary>Names of attributes without defaults.</summary>
    public IrList<string> Attributes { get; } = new();

    /// <summary>Attributes with default values.</summary>
    public IrList<NodeAttribute> AttributeDefaults { get; } = new();

    /// <summary>The body.</summary>
    public IrList<Node> Nodes { get; } = new();

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>Operator sets the body uses.</summary>
    public IrList<OpsetImport> OpsetImports { get; } = new();

    /// <summary>Type information for values inside the body.</summary>
    public IrList<ValueInfo> ValueInfo { get; } = new();

    /// <summary>Named metadata.</summary>
    public IrList<MetadataEntry> MetadataProps { get; } = new();
}

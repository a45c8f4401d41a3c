namespace QuantBuild.Abstractions.Ir;

/// <summary>One operator invocation (ONNX NodeProto). An empty input name means an omitted optional input.</summary>
public sealed class Node
{
    /// <summary>The node's name; null when the file gives none.</summary>
    public string? Name { get; set; }

    /// <summary>The operator, for example <c>Conv</c>.</summary>
    public string OpType { get; set; } = string.Empty;

    /// <summary>The operator's domain; null or empty for the default ONNX domain.</summary>
    public string? Domain { get; set; }

    /// <summary>Which overload of a model-local function this node calls.</summary>
    public string? Overload { get; set; }

    /// <summary>Names of the values the node reads, positionally.</summary>
    public IrList<string> Inputs { get; } = new();

    /// <summary>Names of the values the node produces, positionally.</summary>
    public IrList<string> Outputs { get; } = new();

    /// <summary>Attributes, in file order.</summary>
    public IrList<NodeAttribute> Attributes { get; } = new();

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>Named metadata.</summary>
    public IrList<MetadataEntry> MetadataProps { get; } = new();

    /// <summary>What the file said about this node that the IR does not model (per-device placement); opaque to passes.</summary>
    public PreservedFields? Preserved { get; set; }

    /// <summary>True when the node belongs to the default ONNX domain.</summary>
    public bool IsDefaultDomain => string.IsNullOrEmpty(Domain) || Domain == "ai.onnx";

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    public NodeAttribute? FindAttribute(string name)
    {
        foreach (NodeAttribute attribute in Attributes)
        {
            if (attribute.Name == name)
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>A name good for messages: the node's name, else its op type and first output.</summary>
    public string DisplayName => !string.IsNullOrEmpty(Name) ? Name : $"{OpType}({(Outputs.Count > 0 ? Outputs[0] : "?")})";
}

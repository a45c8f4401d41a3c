namespace QuantBuild.Abstractions.Ir;

/// <summary>
/// An ONNX model as QuantBuild's passes see it. Mirrors ONNX's ModelProto field for field so a model
/// survives load → save without losing anything; optional fields are null when the file omits them.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>The ONNX IR version the file was written for.</summary>
    public long? IrVersion { get; set; }

    /// <summary>Operator sets the graph uses, in file order.</summary>
    public IrList<OpsetImport> OpsetImports { get; } = new();

    /// <summary>The tool that produced the model.</summary>
    public string? ProducerName { get; set; }

    /// <summary>The version of the producing tool.</summary>
    public string? ProducerVersion { get; set; }

    /// <summary>Reverse-DNS namespace of the model.</summary>
    public string? Domain { get; set; }

    /// <summary>The model's own version number.</summary>
    public long? ModelVersion { get; set; }

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>The main graph.</summary>
    public Graph Graph { get; set; } = new();

    /// <summary>Named metadata (model card, labels, and so on).</summary>
    public IrList<MetadataEntry> MetadataProps { get; } = new();

    /// <summary>Model-local functions that nodes may call.</summary>
    public IrList<FunctionDef> Functions { get; } = new();

    /// <summary>Training algorithm descriptions, kept so that training-capable models round-trip.</summary>
    public IrList<TrainingInfo> TrainingInfo { get; } = new();

    /// <summary>
    /// What the file said about the model that the IR does not model (multi-device configurations); opaque to passes,
    /// never dropped.
    /// </summary>
    public PreservedFields? Preserved { get; set; }

    /// <summary>The version imported for <paramref name="domain"/> ("" means the default domain), or null.</summary>
    public long? OpsetVersion(string domain = "")
    {
        bool wantDefault = domain.Length == 0 || domain == "ai.onnx";
        foreach (OpsetImport import in OpsetImports)
        {
            if (wantDefault ? import.IsDefaultDomain : import.Domain == domain)
            {
                return import.Version;
            }
        }

        return null;
    }
}

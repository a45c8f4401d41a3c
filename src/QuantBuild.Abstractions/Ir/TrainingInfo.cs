namespace QuantBuild.Abstractions.Ir;

/// <summary>One training stage of a training-capable model (ONNX TrainingInfoProto), kept so it round-trips.</summary>
public sealed class TrainingInfo
{
    /// <summary>The graph that initialises training state.</summary>
    public Graph? Initialization { get; set; }

    /// <summary>The graph of one training step.</summary>
    public Graph? Algorithm { get; set; }

    /// <summary>Which initializers the initialization graph's outputs assign.</summary>
    public IrList<MetadataEntry> InitializationBinding { get; } = new();

    /// <summary>Which initializers the algorithm graph's outputs update.</summary>
    public IrList<MetadataEntry> UpdateBinding { get; } = new();
}

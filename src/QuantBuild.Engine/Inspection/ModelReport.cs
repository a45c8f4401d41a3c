namespace QuantBuild.Engine.Inspection;

/// <summary>Everything <c>quantbuild inspect</c> says about a model, in the shape <c>--json</c> prints.</summary>
public sealed record ModelReport
{
    /// <summary>The model file as given.</summary>
    public required string Path { get; init; }

    /// <summary>Size of the .onnx file in bytes (side files excluded).</summary>
    public required long FileBytes { get; init; }

    /// <summary>The ONNX IR version.</summary>
    public long? IrVersion { get; init; }

    /// <summary>The producing tool and its version.</summary>
    public string? Producer { get; init; }

    /// <summary>Operator sets imported, domain ("" shown as <c>ai.onnx</c>) to version.</summary>
    public required IReadOnlyList<OpsetSummary> Opsets { get; init; }

    /// <summary>Graph inputs that are not initializers.</summary>
    public required IReadOnlyList<ValueSummary> Inputs { get; init; }

    /// <summary>Graph outputs.</summary>
    public required IReadOnlyList<ValueSummary> Outputs { get; init; }

    /// <summary>Node count including subgraphs.</summary>
    public required int NodeCount { get; init; }

    /// <summary>Nodes per operator, most frequent first, ties by name.</summary>
    public required IReadOnlyList<OpCount> Ops { get; init; }

    /// <summary>Total elements in constant tensors (initializers, Constant nodes, sparse initializers).</summary>
    public required long ParameterCount { get; init; }

    /// <summary>Total bytes in constant tensors.</summary>
    public required long ParameterBytes { get; init; }

    /// <summary>Constant tensors per element type, largest first.</summary>
    public required IReadOnlyList<ParameterSummary> ParametersByType { get; init; }

    /// <summary>True when any tensor's bytes live outside the .onnx file.</summary>
    public required bool UsesExternalData { get; init; }

    /// <summary>The side files, when <see cref="UsesExternalData"/>.</summary>
    public required IReadOnlyList<ExternalDataSummary> ExternalData { get; init; }

    /// <summary>True when the model already contains quantization operators.</summary>
    public required bool AlreadyQuantized { get; init; }

    /// <summary>Every layer (Conv, Gemm, MatMul...), in graph order, each with why it would stay fp32 when it would.</summary>
    public required IReadOnlyList<QuantizableNode> Quantizable { get; init; }
}

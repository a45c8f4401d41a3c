namespace QuantBuild.Engine.Pipeline;

/// <summary>Everything a run says about one target: the machine-readable summary `--json` prints and the manifest holds.</summary>
public sealed record TargetResult
{
    /// <summary>The target's name in quantize.yaml.</summary>
    public required string Name { get; init; }

    /// <summary>The device profile.</summary>
    public required string Device { get; init; }

    /// <summary>How it ended.</summary>
    public required TargetStatus Status { get; init; }

    /// <summary>Where the quantized model was written (only when it passed).</summary>
    public string? OutputPath { get; init; }

    /// <summary>Where a model that failed its gate was put for inspection (never the shipped path).</summary>
    public string? RejectedPath { get; init; }

    /// <summary>The manifest written beside the model.</summary>
    public string? ManifestPath { get; init; }

    /// <summary>The gate metric's name.</summary>
    public string? Metric { get; init; }

    /// <summary>The metric's unit.</summary>
    public string? Unit { get; init; }

    /// <summary>fp32's value of the metric.</summary>
    public double? Fp32Value { get; init; }

    /// <summary>The quantized model's value.</summary>
    public double? QuantizedValue { get; init; }

    /// <summary>Percent of evaluation samples whose argmax matches fp32's.</summary>
    public double? Agreement { get; init; }

    /// <summary>Output SQNR against fp32, dB.</summary>
    public double? OutputSqnrDb { get; init; }

    /// <summary>Bytes of the fp32 model (including external data).</summary>
    public long Fp32Bytes { get; init; }

    /// <summary>Bytes of the quantized model.</summary>
    public long? QuantizedBytes { get; init; }

    /// <summary>The gate's one-line verdict.</summary>
    public string? GateMessage { get; init; }

    /// <summary>The error code when <see cref="Status"/> is <see cref="TargetStatus.Error"/> or the gate failed.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The full diagnostic line of the error.</summary>
    public string? Error { get; init; }

    /// <summary>Stage times.</summary>
    public IReadOnlyList<StageTiming> Stages { get; init; } = Array.Empty<StageTiming>();

    /// <summary>Quantized layers with their output error, worst first.</summary>
    public IReadOnlyList<LayerError> Layers { get; init; } = Array.Empty<LayerError>();

    /// <summary>Every node left in fp32, with why.</summary>
    public IReadOnlyList<FloatNode> FloatNodes { get; init; } = Array.Empty<FloatNode>();

    /// <summary>True when the model and this summary came from the result cache instead of a fresh run.</summary>
    public bool Cached { get; init; }

    /// <summary>Quantized node count.</summary>
    public int QuantizedNodeCount { get; init; }

    /// <summary>What <c>fallback: auto</c> did (layers kept in higher precision, every trial), or null when it did not run.</summary>
    public QuantBuild.Engine.Fallback.FallbackReport? Fallback { get; init; }

    /// <summary>The quantized model timed against fp32 on this machine and the layers ORT did not fuse, or null when not run.</summary>
    public QuantBuild.Engine.Analysis.KernelCheckResult? Kernels { get; init; }
}

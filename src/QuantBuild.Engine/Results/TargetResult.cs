using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Results;

/// <summary>
/// Everything a run says about one target: the machine-readable summary `--json` prints and the manifest holds.
/// The run builds one only through the factories below, from what its stages returned; the settable properties are
/// for the cache and JSON, which read a stored one back.
/// </summary>
public sealed record TargetResult
{
    /// <summary>The code of an unexpected exception: QuantBuild hit a bug, not a problem with the input.</summary>
    public const string BugCode = "QB0001";

    /// <summary>The gate passed (or there is none): the model was written to <paramref name="outputPath"/>.</summary>
    public static TargetResult Passed(TargetConfig target, long fp32Bytes, TargetMeasurements measured, string outputPath, IReadOnlyList<StageTiming> stages) =>
        Measured(target, fp32Bytes, measured, stages) with
        {
            Status = TargetStatus.Passed,
            OutputPath = outputPath,
            ManifestPath = ModelFiles.ManifestFor(outputPath),
        };

    /// <summary>The gate (accuracy, fallback or require_speedup) failed: the model was put in rejected/ for inspection.</summary>
    public static TargetResult GateFailed(TargetConfig target, long fp32Bytes, TargetMeasurements measured, string rejectedPath, QuantBuildException why,
        IReadOnlyList<StageTiming> stages) =>
        Measured(target, fp32Bytes, measured, stages) with
        {
            Status = TargetStatus.GateFailed,
            RejectedPath = rejectedPath,
            ManifestPath = ModelFiles.ManifestFor(rejectedPath),
            ErrorCode = why.Code,
            Error = why.ToDiagnosticString(),
        };

    /// <summary>`eval` re-scored the model already at <paramref name="path"/>; <paramref name="gateFailure"/> is null when it passed.</summary>
    public static TargetResult Rescored(TargetConfig target, long fp32Bytes, TargetMeasurements measured, string path, QuantBuildException? gateFailure,
        IReadOnlyList<StageTiming> stages) =>
        Measured(target, fp32Bytes, measured, stages) with
        {
            Status = gateFailure is null ? TargetStatus.Passed : TargetStatus.GateFailed,
            OutputPath = path,
            ErrorCode = gateFailure?.Code,
            Error = gateFailure?.ToDiagnosticString(),
        };

    /// <summary>The target stopped with a QB error; nothing was written for it. <paramref name="measured"/> keeps what was known by then.</summary>
    public static TargetResult Failed(TargetConfig target, long fp32Bytes, QuantBuildException error, IReadOnlyList<StageTiming> stages,
        TargetMeasurements? measured = null) =>
        Measured(target, fp32Bytes, measured ?? new TargetMeasurements(), stages) with
        {
            Status = TargetStatus.Error,
            ErrorCode = error.Code,
            Error = error.ToDiagnosticString(),
        };

    /// <summary>
    /// The target threw something no stage expected (a bug, ours or a plugin's): it fails with QB0001 naming the
    /// exception, and the run goes on with the other targets.
    /// </summary>
    public static TargetResult Bug(TargetConfig target, long fp32Bytes, Exception exception, IReadOnlyList<StageTiming> stages, TargetMeasurements? measured = null) =>
        Failed(target, fp32Bytes, BugError(target.Name, exception), stages, measured);

    /// <summary>The QB0001 diagnostic for an unexpected exception while working on <paramref name="what"/>.</summary>
    public static QuantBuildException BugError(string what, Exception exception) => new(
        BugCode,
        $"Target '{what}' stopped on an internal error, this is a bug: {exception.GetType().FullName}: {exception.Message}",
        "report it with this message, the stack trace in the log (-v diagnostic) and, if you can, the model and quantize.yaml; the other targets were not affected",
        inner: exception);

    private static TargetResult Measured(TargetConfig target, long fp32Bytes, TargetMeasurements m, IReadOnlyList<StageTiming> stages) => new()
    {
        Name = target.Name,
        Device = target.Device.Name,
        Status = TargetStatus.Error,
        Fp32Bytes = fp32Bytes,
        QuantizedBytes = m.QuantizedBytes,
        QuantizedNodeCount = m.QuantizedNodeCount,
        FloatNodes = m.FloatNodes,
        DynamicLayers = m.DynamicLayers,
        ActivationRanges = m.ActivationRanges,
        Metric = m.Score?.Verdict.Metric,
        Unit = m.Score?.Verdict.Unit,
        Fp32Value = m.Score?.Verdict.Fp32,
        QuantizedValue = m.Score?.Evaluation.Value,
        Agreement = m.Score?.Evaluation.Agreement,
        OutputSqnrDb = m.Score?.Evaluation.Sqnr,
        GateMessage = m.Score?.Verdict.Message,
        Layers = m.Layers,
        Fallback = m.Fallback,
        Kernels = m.Kernels,
        Stages = stages,
    };

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

    /// <summary>Stage times of this run: on a cache hit only the lookup, since nothing else ran.</summary>
    public IReadOnlyList<StageTiming> Stages { get; init; } = Array.Empty<StageTiming>();

    /// <summary>
    /// On a cache hit, the stage times of the run that quantized the model: the manifest records them, so a restored
    /// manifest is byte for byte the one that run wrote. Null when this run did the work.
    /// </summary>
    public IReadOnlyList<StageTiming>? RecordedStages { get; init; }

    /// <summary>Quantized layers with their output error, worst first.</summary>
    public IReadOnlyList<LayerError> Layers { get; init; } = Array.Empty<LayerError>();

    /// <summary>Every node left in fp32, with why.</summary>
    public IReadOnlyList<FloatNode> FloatNodes { get; init; } = Array.Empty<FloatNode>();

    /// <summary>Layers whose kernel quantizes its input at run time (activations: dynamic, or chosen by fallback).</summary>
    public IReadOnlyList<string> DynamicLayers { get; init; } = Array.Empty<string>();

    /// <summary>With <c>calibration.method: auto</c>, the range method chosen per activation and the SQNR that decided it.</summary>
    public IReadOnlyList<ActivationRange> ActivationRanges { get; init; } = Array.Empty<ActivationRange>();

    /// <summary>True when the model and this summary came from the result cache instead of a fresh run.</summary>
    public bool Cached { get; init; }

    /// <summary>Quantized node count.</summary>
    public int QuantizedNodeCount { get; init; }

    /// <summary>What <c>fallback: auto</c> did (layers kept in higher precision, every trial), or null when it did not run.</summary>
    public QuantBuild.Engine.Fallback.FallbackReport? Fallback { get; init; }

    /// <summary>The quantized model timed against fp32 on this machine and the layers ORT did not fuse, or null when not run.</summary>
    public QuantBuild.Engine.Analysis.KernelCheckResult? Kernels { get; init; }
}

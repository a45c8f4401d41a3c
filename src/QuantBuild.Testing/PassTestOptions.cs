using QuantBuild.Abstractions.Passes;

namespace QuantBuild.Testing;

/// <summary>The target a <see cref="PassTestContext"/> stands for; every value has the pipeline's default.</summary>
public sealed record PassTestOptions
{
    /// <summary>The device profile by name (<c>cpu-x64-vnni</c>, <c>cpu-x64-avx2</c>, <c>cpu-arm64</c>).</summary>
    public string Device { get; init; } = "cpu-x64-vnni";

    /// <summary>The weight format the target asks for: 8-bit per-channel unless set.</summary>
    public TargetWeightFormat Weights { get; init; } = new(8, true, null);

    /// <summary>Calibration samples per batch when the model's batch dimension is free (quantize.yaml's <c>calibration.batch_size</c>).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>At most this many calibration samples for statistics; null for all (quantize.yaml's <c>calibration.samples</c>).</summary>
    public long? MaxSamples { get; init; }

    /// <summary>The seed the pass gets.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The target's name as the pass sees it.</summary>
    public string TargetName { get; init; } = "test";

    /// <summary>The pass's name in log lines and in <see cref="QuantBuild.Abstractions.Quantization.WeightEncoding.Origin"/>.</summary>
    public string PassName { get; init; } = "test-pass";

    /// <summary>Cancels the pass's long work when signalled.</summary>
    public CancellationToken Cancellation { get; init; }
}

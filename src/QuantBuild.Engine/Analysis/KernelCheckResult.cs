namespace QuantBuild.Engine.Analysis;

/// <summary>The quantized model timed against fp32 on this machine, and the layers ORT left in float.</summary>
/// <param name="Batches">Timed runs of each model (after warm-up).</param>
/// <param name="BatchSize">Samples per run.</param>
/// <param name="Threads">ONNX Runtime intra-op threads for both (0: ORT's default).</param>
/// <param name="Fp32Milliseconds">Median milliseconds per batch, fp32.</param>
/// <param name="QuantizedMilliseconds">Median milliseconds per batch, quantized.</param>
/// <param name="UnfusedNodes">Float Conv/MatMul/Gemm nodes of ORT's optimized quantized graph whose weight comes from a DequantizeLinear.</param>
/// <param name="OptimizedOpCounts">Op types of ORT's optimized quantized graph with their counts.</param>
public sealed record KernelCheckResult(int Batches, int BatchSize, int Threads, double Fp32Milliseconds, double QuantizedMilliseconds,
    IReadOnlyList<UnfusedNode> UnfusedNodes, IReadOnlyDictionary<string, int> OptimizedOpCounts)
{
    /// <summary>
    /// What the medians measure: <c>wall</c> (the two models alternated, so load from elsewhere slows both alike) or
    /// <c>thread CPU</c> (timed one after the other to hold one model at a time: the calling thread's CPU time per run,
    /// which ORT's single-threaded run spends on that thread, so a change in the machine's load between the two phases
    /// does not tilt the ratio).
    /// </summary>
    public string Clock { get; init; } = "wall";

    /// <summary>fp32 time over quantized time: above 1 when quantized is faster.</summary>
    public double Speedup => QuantizedMilliseconds > 0 ? Fp32Milliseconds / QuantizedMilliseconds : double.NaN;

    /// <summary>True when the quantized model ran faster than fp32.</summary>
    public bool Faster => Speedup > 1;
}

using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using Serilog;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// The run's kernel check (its Kernels stage): a short timed run of the written model against fp32 with the same settings; a warning
/// when it is not faster (listing what ORT did not fuse), an error with <c>require_speedup: true</c>.
/// </summary>
public static class KernelGate
{
    /// <summary>Timed batches per model in `run` (bounded: the check must stay a smoke test).</summary>
    public const int Batches = 20;

    /// <summary>
    /// ONNX Runtime threads for both models: one, so the comparison is of kernels rather than of how two thread pools
    /// share a busy machine (multi-threaded timings on a loaded 2-core build agent swung either way by 10–20 %).
    /// </summary>
    public const int Threads = 1;

    /// <summary>Runs the check; its <see cref="KernelGateResult.Failure"/> is set when require_speedup fails the target.</summary>
    /// <param name="target">The target.</param>
    /// <param name="configPath">The yaml, for error locations.</param>
    /// <param name="fp32">The fp32 model.</param>
    /// <param name="quantized">The written model.</param>
    /// <param name="data">Samples; the first batch is timed.</param>
    /// <param name="batchSize">Samples per run.</param>
    /// <param name="quantizedNodeCount">How many layers the encoder quantized to integer kernels (none: a weight-only format such as GRU/RNN weights stored int8, no speed-up expected).</param>
    /// <param name="log">The run's log.</param>
    /// <param name="budgetBytes">The run's memory budget: when two copies of the fp32 weights do not fit in it, the models are
    /// timed one after the other instead of side by side.</param>
    public static KernelGateResult Check(TargetConfig target, string configPath, OnnxModel fp32, ModelSource quantized, IDataSource data, int batchSize,
        int quantizedNodeCount, ILogger log, long budgetBytes = long.MaxValue)
    {
        string host = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        if (target.Device.Deployment.RuntimeIdentifiers.Count > 0 && !target.Device.Deployment.RuntimeIdentifiers.Any(r => r.EndsWith("-" + host, StringComparison.Ordinal)))
        {
            // another CPU family's kernels timed on this one say nothing about the device
            string arch = target.Device.Deployment.RuntimeIdentifiers[0][(target.Device.Deployment.RuntimeIdentifiers[0].LastIndexOf('-') + 1)..];
            if (target.RequireSpeedup)
            {
                log.Warning("warning {Code}: {Target}: require_speedup cannot be checked here: device {Device} is {Arch} and this machine is {Host}; time it on the device",
                    AnalysisErrors.KernelCheckFailed, target.Name, target.Device.Name, arch, host);
            }
            else
            {
                log.Information("{Target}: kernel check skipped: device {Device} is {Arch} and this machine is {Host}", target.Name, target.Device.Name, arch, host);
            }

            return KernelGateResult.Skipped;
        }

        KernelCheckResult k;
        bool graphRead = true;
        try
        {
            bool interleave = 2 * OnnxModelSaver.SerializedSize(fp32) <= budgetBytes;
            // Tight on memory, ORT's optimized graph is not written: ORT serializes it in memory, weights and all.
            k = KernelCheck.Run(ModelSource.Model(fp32), quantized, fp32, data, batchSize, target.Device.Deployment.SessionConfig, Batches, Threads, interleave,
                readOptimizedGraph: interleave);
            graphRead = interleave;
        }
        catch (Exception e) when (e is QuantBuildException or IOException or InvalidOperationException)
        {
            log.Warning("{Code}: {Target}: the kernel check could not run: {Message}", AnalysisErrors.KernelCheckFailed, target.Name, e.Message);
            return KernelGateResult.Skipped;
        }

        if (quantizedNodeCount == 0 && !target.RequireSpeedup)
        {
            // weight-only formats (e.g. a plugin's packed low-bit weights decoded at load) shrink the file, not the time
            log.Information("{Target}: no integer layers, so no speed-up was expected: quantized {Quant:0.00} ms vs fp32 {Fp32:0.00} ms per batch ({Clock:l} time)", target.Name, k.QuantizedMilliseconds, k.Fp32Milliseconds, k.Clock);
            return new KernelGateResult(k, null);
        }

        if (k.Faster)
        {
            log.Information("{Target}: quantized {Quant:0.00} ms vs fp32 {Fp32:0.00} ms per batch ({Speedup:0.00}x, {Clock:l} time)", target.Name, k.QuantizedMilliseconds, k.Fp32Milliseconds, k.Speedup, k.Clock);
            return new KernelGateResult(k, null);
        }

        string unfused = !graphRead ? "which layers ORT did not fuse was not checked (its optimized graph would not fit the memory budget)"
            : k.UnfusedNodes.Count == 0 ? "every quantized layer was fused" : "not fused into integer kernels: " + string.Join(", ", k.UnfusedNodes.Select(u => $"{u.Node} ({u.OpType})"));
        string message = $"Target '{target.Name}': the quantized model is not faster than fp32 on this machine ({k.QuantizedMilliseconds:0.00} ms vs {k.Fp32Milliseconds:0.00} ms per batch of {k.BatchSize}, single-threaded median of {k.Batches}, {k.Clock} time); {unfused}.";
        if (!target.RequireSpeedup)
        {
            log.Warning("warning {Code}: {Message}", AnalysisErrors.NotFaster, message);
            return new KernelGateResult(k, null);
        }

        var error = new QuantBuildException(AnalysisErrors.NotFaster, message,
            "exclude the layers listed (they run as float with extra DequantizeLinear), use a device profile with integer kernels for them, or drop require_speedup",
            configPath, target.Location.Line, target.Location.Column);
        log.Error("{Error}", error.ToDiagnosticString());
        return new KernelGateResult(k, error);
    }
}

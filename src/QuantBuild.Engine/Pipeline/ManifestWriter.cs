using System.Text.Json;
using System.Text.Json.Serialization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// The manifest shipped beside each quantized model: where it came from, how it was made, what it scored and
/// with which runtime settings, so a deployed model can always be traced back and re-checked.
/// </summary>
public static class ManifestWriter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The manifest's path for a model written to <paramref name="modelPath"/>.</summary>
    public static string PathFor(string modelPath) => Path.ChangeExtension(modelPath, null) + ".manifest.json";

    /// <summary>Renders the manifest for one target.</summary>
    public static string Render(RunResult run, TargetConfig target, TargetResult result, string? modelSha256, CalibrationConfig calibration)
    {
        var manifest = new
        {
            schema = "quantbuild-manifest/1",
            tool = new { name = "QuantBuild", version = run.ToolVersion },
            source = new { path = run.ModelPath, sha256 = run.ModelSha256, bytes = result.Fp32Bytes },
            target = target.Name,
            device = new
            {
                name = target.Device.Name,
                runtimeIdentifiers = target.Device.RuntimeIdentifiers,
                activations = ElementTypeInfo.OnnxName(target.Device.ActivationType) + (target.Device.SymmetricActivations ? " symmetric" : " asymmetric"),
                perChannelWeights = target.Device.PerChannelWeights,
                reduceRange = target.Device.ReduceRange,
                sessionConfig = target.Device.SessionConfig,
                graphOptimizationLevel = "all",
            },
            recipe = target.Recipe.Select(p => p.Name).ToArray(),
            weights = new { bits = target.Weights.Bits, granularity = target.Weights.Granularity.ToString(), blockSize = target.Weights.BlockSize },
            calibration = new { method = calibration.Method.ToString(), samples = calibration.Samples, batchSize = calibration.BatchSize },
            plugins = Array.Empty<object>(),
            model = new { path = result.OutputPath ?? result.RejectedPath, sha256 = modelSha256, bytes = result.QuantizedBytes },
            metrics = new
            {
                name = result.Metric,
                unit = result.Unit,
                fp32 = result.Fp32Value,
                quantized = result.QuantizedValue,
                agreement = result.Agreement,
                outputSqnrDb = result.OutputSqnrDb,
            },
            sizes = new
            {
                fp32 = result.Fp32Bytes,
                quantized = result.QuantizedBytes,
                ratio = result.QuantizedBytes is long q && result.Fp32Bytes > 0 ? Math.Round((double)q / result.Fp32Bytes, 4) : (double?)null,
            },
            verdict = result.Status.ToString(),
            gate = result.GateMessage,
            // The cache lookup is left out: a hit must reproduce the manifest of the run it stored, byte for byte.
            stages = result.Stages.Where(s => s.Stage != Cache.TargetCache.Stage).ToList(),
            floatNodes = result.FloatNodes,
        };
        return JsonSerializer.Serialize(manifest, Json) + Environment.NewLine;
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Results;

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
    public static string PathFor(string modelPath) => ModelFiles.ManifestFor(modelPath);

    /// <summary>Renders the manifest for one target.</summary>
    /// <param name="source">The fp32 model: its path and SHA-256.</param>
    /// <param name="target">The target.</param>
    /// <param name="result">Its result (model path, numbers, stages).</param>
    /// <param name="written">The written model: its SHA-256 and the bit widths its weights are stored at.</param>
    /// <param name="calibration">The calibration settings.</param>
    /// <param name="plugins">The loaded plugins; those providing the target's recipe passes are recorded.</param>
    public static string Render(ManifestSource source, TargetConfig target, TargetResult result, WrittenModel written, CalibrationConfig calibration,
        IReadOnlyList<PluginInfo>? plugins = null)
    {
        string? path = result.OutputPath ?? result.RejectedPath;
        var manifest = new
        {
            schema = "quantbuild-manifest/1",
            tool = new { name = "QuantBuild", version = ToolInfo.Version },
            // File names only: a manifest ships with the app and must not carry the build machine's folders.
            source = new { path = Path.GetFileName(source.ModelPath), sha256 = source.ModelSha256, bytes = result.Fp32Bytes },
            target = target.Name,
            device = new
            {
                name = target.Device.Name,
                runtimeIdentifiers = target.Device.Deployment.RuntimeIdentifiers,
                activations = ElementTypeInfo.OnnxName(target.Device.Kernels.ActivationType) + (target.Device.Kernels.SymmetricActivations ? " symmetric" : " asymmetric"),
                perChannelWeights = target.Device.Kernels.PerChannelWeights,
                reduceRange = target.Device.Kernels.ReduceRange,
                sessionConfig = target.Device.Deployment.SessionConfig,
                graphOptimizationLevel = "all",
            },
            recipe = target.Recipe.Select(p => p.Name).ToArray(),
            weights = new
            {
                bits = target.Weights.Bits,
                granularity = target.Weights.Granularity.ToString(),
                blockSize = target.Weights.BlockSize,
                // How 4-bit MatMul weights were written and the accuracy level their kernels ran at (the gate's numbers).
                format = target.Weights.Bits == 4 ? WeightsBinder.FormatNames[(int)target.Weights.Format] : null,
                zeroPoint = target.Weights.Bits == 4 ? target.Weights.ZeroPoint : (bool?)null,
                accuracyLevel = target.Weights.Bits == 4 ? target.Weights.AccuracyLevel : (int?)null,
                // What the file holds, by width: 'bits: 4' reaches MatMul weights only, the others stay 8-bit.
                written = written.WeightBits.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value),
            },
            // The yaml's mode and the layers written with run-time activation quantization (the yaml's, a recipe's or fallback's).
            activations = new
            {
                mode = ActivationsBinder.ModeNames[(int)target.Activations.Mode],
                dynamic = written.DynamicLayers ?? [],
            },
            calibration = new
            {
                method = calibration.Method.ToString(),
                histogram = calibration.Method == CalibrationMethod.MinMax ? null : calibration.Histogram,
                samples = calibration.Samples,
                batchSize = calibration.BatchSize,
            },
            plugins = RecipePlugins(target, plugins),
            model = new { path = path is null ? null : Path.GetFileName(path), sha256 = written.Sha256, bytes = result.QuantizedBytes },
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
            stages = (result.RecordedStages ?? result.Stages).Where(s => s.Stage != Cache.TargetCache.Stage).ToList(),
            floatNodes = result.FloatNodes,
        };
        return JsonSerializer.Serialize(manifest, Json) + Environment.NewLine;
    }

    // Every plugin a recipe pass of this target came from, once, in recipe order: the model's provenance.
    private static object[] RecipePlugins(TargetConfig target, IReadOnlyList<PluginInfo>? plugins)
    {
        if (plugins is null)
        {
            return [];
        }

        var used = new List<PluginInfo>();
        foreach (RecipePass pass in target.Recipe)
        {
            if (plugins.FirstOrDefault(p => p.Loaded && p.Passes.Any(x => x.Name == pass.Name)) is { } plugin && !used.Contains(plugin))
            {
                used.Add(plugin);
            }
        }

        return used.Select(p => (object)new
        {
            name = p.Name,
            version = p.Version,
            source = p.Source.ToString(),
            assembly = Path.GetFileName(p.Path),
            sha256 = p.Sha256,
            passes = target.Recipe.Select(r => r.Name).Where(n => p.Passes.Any(x => x.Name == n)).Distinct().ToArray(),
        }).ToArray();
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using QuantBuild.Abstractions.Devices;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// The content address of one target's result: SHA-256 over the model bytes (with external data), the target's
/// resolved settings written canonically, plugin assembly hashes, data file hashes and the tool's build. Paths and
/// yaml line numbers are left out, so moving a project or adding a comment keeps the key.
/// </summary>
public static class CacheKey
{
    /// <summary>Bumped when the entry layout or the meaning of the key changes.</summary>
    public const int Schema = 2;

    /// <summary>The tool's identity in the key: its version and the engine build's module id (a deterministic build's content hash).</summary>
    public static string ToolIdentity { get; } = ToolInfo.Version + "/" + string.Join("/",
        new[] { typeof(CacheKey), typeof(QuantBuild.Onnx.OnnxModelLoader), typeof(QuantBuild.Runtime.InferenceSession) }
            .Select(t => t.Assembly.ManifestModule.ModuleVersionId.ToString("N")));

    /// <summary>Computes the key of <paramref name="target"/>.</summary>
    /// <param name="config">The run's config (calibration, evaluation, gate).</param>
    /// <param name="target">The target.</param>
    /// <param name="inputs">Hashes of the model and data files.</param>
    /// <param name="pluginHashes">One entry per plugin assembly the recipe can reach ("name:sha256"); empty when the recipe is empty.</param>
    public static string Compute(QuantizeConfig config, TargetConfig target, InputHashes inputs, IEnumerable<string> pluginHashes)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("schema", Schema);
            json.WriteString("tool", ToolIdentity);
            json.WriteString("model", inputs.Model);
            json.WriteStartObject("files");
            foreach ((string role, string sha) in inputs.Files)
            {
                json.WriteString(role, sha);
            }

            json.WriteEndObject();
            WriteDevice(json, target.Device);
            json.WriteStartArray("recipe");
            foreach (RecipePass pass in target.Recipe)
            {
                json.WriteStartObject();
                json.WriteString("name", pass.Name);
                json.WritePropertyName("options");
                WriteNode(json, pass.Options);
                if (pass.TimeoutSeconds is double timeout)
                {
                    json.WriteNumber("timeout", timeout);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("plugins");
            foreach (string plugin in pluginHashes.Order(StringComparer.Ordinal))
            {
                json.WriteStringValue(plugin);
            }

            json.WriteEndArray();
            json.WriteStartObject("weights");
            json.WriteNumber("bits", target.Weights.Bits);
            json.WriteString("granularity", target.Weights.Granularity.ToString());
            json.WriteString("blockSize", target.Weights.BlockSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default");
            if (target.Weights.Bits == 4)
            {
                // Only 4-bit targets carry them, so the keys of 8-bit targets stay what they were.
                json.WriteString("format", target.Weights.Format.ToString());
                json.WriteBoolean("zeroPoint", target.Weights.ZeroPoint);
                json.WriteNumber("accuracyLevel", target.Weights.AccuracyLevel);
            }

            json.WriteEndObject();
            if (target.Activations.Mode != Quantization.ActivationMode.Static || target.Activations.DynamicNodes.Count > 0)
            {
                // Written only when not all static, so keys of static targets stay what they were.
                json.WriteString("activations", target.Activations.Mode.ToString());
                WriteStrings(json, "dynamicNodes", target.Activations.DynamicNodes.Order(StringComparer.Ordinal));
            }

            WriteStrings(json, "excludeNodes", target.Exclude.Nodes.Order(StringComparer.Ordinal));
            WriteStrings(json, "excludeOps", target.Exclude.OpTypes.Order(StringComparer.Ordinal));
            WriteGate(json, target.Gate ?? config.Gate);
            if (target.Fallback is { } fallback)
            {
                // Written only when set, so keys of targets without fallback stay what they were.
                json.WriteString("fallback", string.Join("|", fallback.MaxTrials, Invariant(fallback.MaxSeconds), Invariant(fallback.MaxBitsPerWeight), Invariant(fallback.MaxBytes)));
            }

            if (target.RequireSpeedup)
            {
                json.WriteBoolean("requireSpeedup", true);
            }

            // Constant and streamed inputs change every activation calibration and evaluation see. Written only when
            // bound, so keys of models without an inputs: section stay what they were.
            if (config.Inputs.Count > 0)
            {
                json.WriteStartArray("inputs");
                foreach (InputBindingConfig binding in config.Inputs.OrderBy(b => b.Name, StringComparer.Ordinal))
                {
                    json.WriteStartObject();
                    json.WriteString("name", binding.Name);
                    json.WriteString("value", Invariant(binding.Value));
                    json.WriteString("shape", binding.Shape is null ? "model" : string.Join(",", binding.Shape));
                    json.WriteString("stream", binding.Stream ?? string.Empty);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteStartObject("calibration");
            json.WriteString("method", config.Calibration.Method.ToString());
            json.WriteString("percentile", Invariant(config.Calibration.Percentile));
            json.WriteString("histogram", config.Calibration.Histogram);
            json.WriteString("samples", Invariant(config.Calibration.Samples));
            json.WriteNumber("batchSize", config.Calibration.BatchSize);
            WriteReader(json, config.Calibration.Data);
            json.WriteEndObject();
            if (config.Evaluation is { } evaluation)
            {
                json.WriteStartObject("evaluation");
                json.WriteString("metric", evaluation.Metric);
                json.WriteString("k", Invariant(evaluation.K));
                json.WriteString("output", evaluation.Output ?? string.Empty);
                json.WriteNumber("batchSize", evaluation.BatchSize);
                WriteReader(json, evaluation.Data);
                if (evaluation.MetricOptions is { } metricOptions)
                {
                    json.WritePropertyName("metricOptions");
                    WriteNode(json, metricOptions);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return Hex(SHA256.HashData(buffer.ToArray()));
    }

    /// <summary>Lower-case hex.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private static void WriteDevice(Utf8JsonWriter json, DeviceProfile device)
    {
        json.WriteStartObject("device");
        json.WriteString("name", device.Name);
        json.WriteString("activation", device.Kernels.ActivationType.ToString());
        json.WriteBoolean("symmetric", device.Kernels.SymmetricActivations);
        json.WriteBoolean("perChannel", device.Kernels.PerChannelWeights);
        json.WriteBoolean("reduceRange", device.Kernels.ReduceRange);
        json.WriteNumber("minimumOpset", device.Kernels.MinimumOpset);
        WriteStrings(json, "weightBits", device.Kernels.WeightBits.Order().Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        WriteStrings(json, "integerOps", device.Kernels.IntegerOps.Order(StringComparer.Ordinal));
        json.WriteStartObject("session");
        foreach ((string key, string value) in device.Deployment.SessionConfig.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteGate(Utf8JsonWriter json, GateConfig? gate)
    {
        json.WriteStartObject("gate");
        json.WriteString("maxDrop", Invariant(gate?.MaxDrop));
        json.WriteBoolean("relative", gate?.MaxDropIsRelative ?? false);
        json.WriteString("min", Invariant(gate?.Min));
        json.WriteEndObject();
    }

    // Mappings are written with sorted keys, scalars with whether they were quoted: the binder reads `1` and `'1'` differently.
    // A plugin reader's name and options decide what the samples are, as much as the files do. Written only for a
    // reader, so the keys of configs without one stay what they were.
    private static void WriteReader(Utf8JsonWriter json, DataSourceConfig data)
    {
        if (data.Reader is { } reader)
        {
            json.WriteString("reader", reader);
            json.WritePropertyName("readerOptions");
            WriteNode(json, data.ReaderOptions ?? new ConfigMapping(Array.Empty<ConfigEntry>(), default));
        }
    }

    private static void WriteNode(Utf8JsonWriter json, ConfigNode node)
    {
        switch (node)
        {
            case ConfigMapping mapping:
                json.WriteStartObject();
                foreach (ConfigEntry entry in mapping.Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
                {
                    json.WritePropertyName(entry.Name);
                    WriteNode(json, entry.Value);
                }

                json.WriteEndObject();
                break;
            case ConfigSequence sequence:
                json.WriteStartArray();
                foreach (ConfigNode item in sequence.Items)
                {
                    WriteNode(json, item);
                }

                json.WriteEndArray();
                break;
            case ConfigScalar scalar:
                json.WriteStringValue((scalar.IsPlain ? "p:" : "q:") + scalar.Value);
                break;
        }
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static string Invariant(double? value) => value?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    private static string Invariant(int? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";

}

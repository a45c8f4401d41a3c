using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>
/// <c>activations: static | dynamic | {mode, dynamic: [layers]}</c>: bound into the encoder's options and the cache key;
/// what the encoder cannot write refused at validation with the line it was written on.
/// </summary>
public sealed class ActivationsConfigTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    // Line 10 is the activations line appended to this.
    private const string Valid = """
        model: model.onnx
        calibration:
          data: data/calibration.npy
        evaluation:
          data: data/eval_images.npy
          labels: data/eval_labels.npy
        targets:
          x64:
            device: cpu-x64-vnni
        """;

    private TargetConfig Target(string activations, string extra = "") => _dir.Load(Valid + "\n    activations: " + activations + "\n" + extra).Targets.Single();

    [Fact]
    public void Static_is_the_default_and_dynamic_reaches_the_encoder()
    {
        Assert.Equal(ActivationMode.Static, TargetEncoding.Options(_dir.Load(Valid).Targets.Single()).Activations);
        Assert.Equal(ActivationMode.Dynamic, TargetEncoding.Options(Target("dynamic")).Activations);
        EncodeOptions listed = TargetEncoding.Options(Target("{mode: static, dynamic: [fc1, fc2]}"));
        Assert.Equal(ActivationMode.Static, listed.Activations);
        Assert.Equal(["fc1", "fc2"], listed.DynamicNodeNames.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("dynamc", "QB1013", "did you mean 'dynamic'")]
    [InlineData("{mode: dynamic, dynamic: [fc1]}", "QB1014", "already makes every layer dynamic")]
    [InlineData("{mode: static, per_layer: [fc1]}", "QB1003", "per_layer")]
    public void A_value_the_binder_cannot_honour_is_refused_at_its_line(string activations, string code, string says)
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n    activations: " + activations + "\n");

        Assert.Equal((code, 10), (e.Code, e.Line));
        Assert.Contains(says, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Dynamic_activations_with_4_bit_weights_are_QB1024()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n    weights: {bits: 4}\n    activations: dynamic\n");

        Assert.Equal(("QB1024", 11), (e.Code, e.Line));
        Assert.Contains("MatMulNBits already quantizes its activations", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cache_key_tells_static_dynamic_and_per_layer_apart_and_an_explicit_static_is_the_default()
    {
        QuantizeConfig config = _dir.Load(Valid.Replace("  x64:\n    device: cpu-x64-vnni", """
              a:
                device: cpu-x64-vnni
              b:
                device: cpu-x64-vnni
                activations: dynamic
              c:
                device: cpu-x64-vnni
                activations: {dynamic: fc1}
              d:
                device: cpu-x64-vnni
                activations: static
            """));
        var inputs = new InputHashes("model", "file", []);

        string[] keys = config.Targets.Select(t => CacheKey.Compute(config, t, inputs, [])).ToArray();

        Assert.Equal(3, keys.Take(3).Distinct().Count());
        Assert.Equal(keys[0], keys[3]);
    }
}

using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>
/// <c>weights: {bits: 4, format, block_size, zero_point, accuracy_level}</c>: bound into the encoder's options, the
/// session settings the gate runs with and the cache key; combinations the encoder cannot honour refused at validation.
/// </summary>
public sealed class FourBitWeightsConfigTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    // Line 10 is the weights line appended to this.
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

    private TargetConfig Target(string weights) => _dir.Load(Valid + "\n    weights: " + weights + "\n").Targets.Single();

    [Fact]
    public void Four_bit_weights_default_to_MatMulNBits_symmetric_at_accuracy_level_4_with_no_extra_session_config()
    {
        TargetConfig target = Target("{bits: 4}");

        EncodeOptions options = TargetEncoding.Options(target);

        Assert.Equal((FourBitFormat.MatMulNBits, false, 4, 32), (options.FourBitFormat, options.FourBitZeroPoints, options.AccuracyLevel, options.BlockSize));
        Assert.Empty(target.Device.Deployment.SessionConfig);
    }

    [Fact]
    public void Every_four_bit_key_reaches_the_encoder_and_a_block_size_needs_no_block_granularity_at_4_bits()
    {
        TargetConfig target = Target("{bits: 4, format: matmulnbits, block_size: 128, zero_point: true, accuracy_level: 1}");

        EncodeOptions options = TargetEncoding.Options(target);

        Assert.Equal((FourBitFormat.MatMulNBits, true, 1, 128), (options.FourBitFormat, options.FourBitZeroPoints, options.AccuracyLevel, options.BlockSize));
    }

    [Fact]
    public void Qdq_blocked_deploys_its_accuracy_level_as_the_session_config_ORT_fuses_with()
    {
        TargetConfig target = Target("{bits: 4, format: qdq-blocked, block_size: 64, accuracy_level: 1}");

        Assert.Equal(FourBitFormat.BlockedDequantize, TargetEncoding.Options(target).FourBitFormat);
        Assert.Equal("1", target.Device.Deployment.SessionConfig[WeightFormat.QdqAccuracyLevelKey]);
        Assert.Equal("cpu-x64-vnni", target.Device.Name);
    }

    [Theory]
    [InlineData("{bits: 8, format: matmulnbits}", "format")]
    [InlineData("{bits: 8, zero_point: true}", "zero_point")]
    [InlineData("{accuracy_level: 4}", "accuracy_level")]
    public void Four_bit_keys_on_an_8_bit_target_are_refused_as_a_conflict(string weights, string key)
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n    weights: " + weights + "\n");

        Assert.Equal((ConfigErrorCodes.Conflict, 10), (e.Code, e.Line));
        Assert.Contains($"'targets.x64.weights.{key}' describes 4-bit weights", e.Message);
    }

    [Fact]
    public void An_unknown_format_suggests_the_closest_one()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n    weights: {bits: 4, format: matmulnbit}\n");

        Assert.Equal((ConfigErrorCodes.UnknownValue, 10), (e.Code, e.Line));
        Assert.Contains("Did you mean 'matmulnbits'?", e.Message);
    }

    [Theory]
    [InlineData("{bits: 4, accuracy_level: 5}", ConfigErrorCodes.OutOfRange)]
    [InlineData("{bits: 4, block_size: 24}", ConfigErrorCodes.OutOfRange)]
    [InlineData("{bits: 4, zero_point: maybe}", ConfigErrorCodes.WrongType)]
    public void Values_outside_what_the_kernels_take_are_refused(string weights, string code)
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n    weights: " + weights + "\n");

        Assert.Equal((code, 10), (e.Code, e.Line));
    }

    [Fact]
    public void Format_zero_points_and_accuracy_level_each_change_the_cache_key()
    {
        QuantizeConfig config = _dir.Load(Valid.Replace("  x64:\n    device: cpu-x64-vnni", """
              a:
                device: cpu-x64-vnni
                weights: {bits: 4}
              b:
                device: cpu-x64-vnni
                weights: {bits: 4, format: qdq-blocked}
              c:
                device: cpu-x64-vnni
                weights: {bits: 4, zero_point: true}
              d:
                device: cpu-x64-vnni
                weights: {bits: 4, accuracy_level: 1}
              e:
                device: cpu-x64-vnni
                weights: {bits: 4, format: matmulnbits, zero_point: false, accuracy_level: 4}
            """));
        var inputs = new InputHashes("model", "file", []);

        string[] keys = config.Targets.Select(t => CacheKey.Compute(config, t, inputs, [])).ToArray();

        Assert.Equal(4, keys.Take(4).Distinct().Count());
        Assert.Equal(keys[0], keys[4]);
    }
}

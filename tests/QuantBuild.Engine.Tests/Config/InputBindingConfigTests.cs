using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>The top-level <c>inputs:</c> section: constants for inputs the data files do not hold.</summary>
public sealed class InputBindingConfigTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    // Line numbers count from "model:" as line 1.
    private const string Vad = """
        model: model.onnx
        inputs:
          sr: {value: 16000}
          state:
            value: 0
            shape: [2, 1, 128]
        calibration:
          data: data/calibration.npy
        targets:
          x64:
            device: cpu-x64-vnni
        """;

    [Fact]
    public void Each_input_binds_its_value_shape_and_line()
    {
        QuantizeConfig config = _dir.Load(Vad);
        Assert.Equal(2, config.Inputs.Count);
        Assert.Equal(("sr", 16000.0, (IReadOnlyList<long>?)null, 3), (config.Inputs[0].Name, config.Inputs[0].Value, config.Inputs[0].Shape, config.Inputs[0].Location.Line));
        Assert.Equal(("state", 0.0, 4), (config.Inputs[1].Name, config.Inputs[1].Value, config.Inputs[1].Location.Line));
        Assert.Equal([2L, 1L, 128L], config.Inputs[1].Shape);
    }

    [Fact]
    public void A_config_without_inputs_binds_none()
    {
        Assert.Empty(_dir.Load(Vad[..Vad.IndexOf("inputs:", StringComparison.Ordinal)] + Vad[Vad.IndexOf("calibration:", StringComparison.Ordinal)..]).Inputs);
    }

    [Fact]
    public void A_binding_without_a_value_is_a_missing_key_at_its_name()
    {
        QuantBuildException e = _dir.SingleError(Vad.Replace("    value: 0\n", string.Empty));
        Assert.Equal((ConfigErrorCodes.MissingKey, 4, 3), (e.Code, e.Line, e.Column));
    }

    [Fact]
    public void A_shape_with_a_zero_or_a_name_is_a_wrong_type_at_that_size()
    {
        QuantBuildException e = _dir.SingleError(Vad.Replace("[2, 1, 128]", "[2, batch, 128]"));
        Assert.Equal((ConfigErrorCodes.WrongType, 6, 16), (e.Code, e.Line, e.Column));
    }

    [Fact]
    public void A_stream_binding_names_the_output_fed_back()
    {
        QuantizeConfig config = _dir.Load(Vad.Replace("    value: 0\n", "    value: 0\n    stream: stateN\n").Replace("data/calibration.npy", "data/calibration.npy\n  batch_size: 1"));
        Assert.Equal("stateN", config.Inputs[1].Stream);
        Assert.Null(config.Inputs[0].Stream);
    }

    [Fact]
    public void A_stream_needs_calibration_one_window_per_batch()
    {
        QuantBuildException e = _dir.SingleError(Vad.Replace("    value: 0\n", "    value: 0\n    stream: stateN\n"));
        Assert.Equal(("QB1306", 8, 1), (e.Code, e.Line, e.Column));
        Assert.Contains("state", e.Message);
        Assert.Equal("write 'batch_size: 1' under 'calibration'", e.Fix);
    }

    [Fact]
    public void A_stream_refuses_an_evaluation_batch_of_more_than_one()
    {
        string yaml = Vad.Replace("    value: 0\n", "    value: 0\n    stream: stateN\n").Replace("data/calibration.npy", "data/calibration.npy\n  batch_size: 1")
            + "\nevaluation:\n  data: data/calibration.npy\n  metric: cosine\n  batch_size: 4\n";
        QuantBuildException e = _dir.SingleError(yaml);
        Assert.Equal("QB1306", e.Code);
        Assert.Equal("write 'batch_size: 1' under 'evaluation'", e.Fix);
    }

    [Fact]
    public void The_cache_key_changes_with_a_bound_value_shape_or_stream_and_not_with_the_bindings_order()
    {
        var files = new InputHashes("model", "file", []);
        string Key(string yaml)
        {
            QuantizeConfig config = _dir.Load(yaml);
            return CacheKey.Compute(config, config.Targets[0], files, []);
        }

        // One window per batch throughout, so a stream is the only difference where there is one.
        string one = Vad.Replace("data/calibration.npy", "data/calibration.npy\n  batch_size: 1");
        string vad = Key(one);
        string[] others =
        [
            Key(one.Replace("{value: 16000}", "{value: 8000}")),
            Key(one.Replace("[2, 1, 128]", "[2, 1, 64]")),
            Key(one.Replace("    shape: [2, 1, 128]\n", "    shape: [2, 1, 128]\n    stream: stateN\n")),
            Key(one[..one.IndexOf("inputs:", StringComparison.Ordinal)] + one[one.IndexOf("calibration:", StringComparison.Ordinal)..]),
        ];
        string reordered = Key(one.Replace("  sr: {value: 16000}\n", string.Empty).Replace("calibration:", "  sr: {value: 16000}\ncalibration:"));

        Assert.Equal(others.Length + 1, others.Append(vad).Distinct().Count());
        Assert.Equal(vad, reordered);
        Assert.Equal(vad, Key(one));
    }
}

using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

public sealed class ConfigErrorTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    // Line numbers in the tests below count from "model:" as line 1.
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

    private static void AssertAt(QuantBuildException e, string code, int line, int column)
    {
        Assert.True((code, line, column) == (e.Code, e.Line, e.Column), $"expected {code} at ({line},{column}), got {e.ToDiagnosticString()}");
    }

    [Fact]
    public void Unknown_key_suggests_the_closest_known_key()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("  labels:", "  lables:"));

        AssertAt(e, ConfigErrorCodes.UnknownKey, 6, 3);
        Assert.Equal("unknown key 'lables' in 'evaluation'. Did you mean 'labels'?", e.Message);
        Assert.Equal("use one of: data, labels, metric, metric_options, k, dictionary, output, batch_size", e.Fix);
    }

    [Fact]
    public void Unknown_top_level_key_is_reported_at_the_top_level()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\ncalibraton: {}\n");

        AssertAt(e, ConfigErrorCodes.UnknownKey, 10, 1);
        Assert.Contains("at the top level. Did you mean 'calibration'?", e.Message);
    }

    [Fact]
    public void Wrong_type_says_what_was_expected_and_what_was_written()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("data/calibration.npy", "data/calibration.npy\n  batch_size: abc"));

        AssertAt(e, ConfigErrorCodes.WrongType, 4, 15);
        Assert.Equal("'calibration.batch_size': expected a whole number, got 'abc'", e.Message);
    }

    [Fact]
    public void A_list_where_a_mapping_belongs_is_a_wrong_type()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("    device: cpu-x64-vnni", "    - cpu-x64-vnni"));

        AssertAt(e, ConfigErrorCodes.WrongType, 9, 5);
        Assert.Contains("expected a mapping", e.Message);
        Assert.Contains("got a list", e.Message);
    }

    [Fact]
    public void Missing_file_names_the_resolved_path()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("data/calibration.npy", "data/missing.npy"));

        AssertAt(e, ConfigErrorCodes.FileNotFound, 3, 9);
        Assert.Contains($"'data/missing.npy' not found (resolved to {_dir.P("data/missing.npy")})", e.Message);
        Assert.Contains(_dir.Root, e.Fix);
    }

    [Fact]
    public void Missing_model_key_is_reported_once()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("model: model.onnx\n", string.Empty));

        AssertAt(e, ConfigErrorCodes.MissingKey, 1, 1);
        Assert.Equal("missing required key 'model'", e.Message);
    }

    [Fact]
    public void Empty_targets_is_an_error()
    {
        QuantBuildException e = _dir.SingleError(Valid[..Valid.IndexOf("targets:", StringComparison.Ordinal)] + "targets: {}\n");

        AssertAt(e, ConfigErrorCodes.NoTargets, 7, 10);
    }

    [Fact]
    public void Missing_targets_is_an_error()
    {
        QuantBuildException e = _dir.SingleError(Valid[..Valid.IndexOf("targets:", StringComparison.Ordinal)]);

        Assert.Equal(ConfigErrorCodes.NoTargets, e.Code);
    }

    [Fact]
    public void Unknown_device_profile_suggests_and_lists_the_known_ones()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("cpu-x64-vnni", "cpu-x64-vnii"));

        AssertAt(e, ConfigErrorCodes.UnknownDevice, 9, 13);
        Assert.Equal("unknown device profile 'cpu-x64-vnii'. Did you mean 'cpu-x64-vnni'?", e.Message);
        Assert.Equal("use one of: cpu-arm64, cpu-x64-avx2, cpu-x64-vnni", e.Fix);
    }

    [Fact]
    public void Unknown_pass_suggests_and_says_which_plugins_provide_passes()
    {
        var options = new ConfigValidationOptions
        {
            KnownPasses = [new KnownPass("smoothquant", "QuantBuild.Plugins.SmoothQuant"), new KnownPass("nupes", "QuantBuild.Plugins.Nupes")],
        };

        QuantBuildException e = _dir.SingleError(Valid + "\n    recipe:\n      - pass: smothquant\n", options);

        AssertAt(e, ConfigErrorCodes.UnknownPass, 11, 15);
        Assert.Equal(
            "unknown pass 'smothquant'. Did you mean 'smoothquant'? (known passes: nupes (QuantBuild.Plugins.Nupes), smoothquant (QuantBuild.Plugins.SmoothQuant))",
            e.Message);
    }

    [Fact]
    public void Pass_names_are_not_checked_when_the_host_supplies_none()
    {
        Assert.Equal("anything", _dir.Load(Valid + "\n    recipe: [anything]\n").Targets[0].Recipe[0].Name);
    }

    [Fact]
    public void A_pass_that_cannot_target_the_device_is_an_error()
    {
        var options = new ConfigValidationOptions
        {
            KnownPasses = [new KnownPass("armonly", "Contoso.Arm", SupportsDevice: (DeviceProfile d) => d.Name == "cpu-arm64")],
        };

        QuantBuildException e = _dir.SingleError(Valid + "\n    recipe:\n      - pass: armonly\n", options);

        AssertAt(e, ConfigErrorCodes.NotSupportedByDevice, 11, 15);
        Assert.Equal("pass 'armonly' (Contoso.Arm) cannot target device 'cpu-x64-vnni'", e.Message);
    }

    // A profile like an NPU's: 8-bit per-tensor weights only. The shipped CPU profiles allow everything else.
    private static readonly ConfigValidationOptions NpuOnly = new()
    {
        Devices = new Dictionary<string, DeviceProfile>
        {
            ["npu-test"] = Engine.Profiles.DeviceProfiles.CpuArm64 with { Name = "npu-test", Kernels = Engine.Profiles.DeviceProfiles.CpuArm64.Kernels with { WeightBits = [8], PerChannelWeights = false } },
        },
    };

    [Fact]
    public void Weight_bits_the_profile_cannot_run_are_an_error()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("cpu-x64-vnni", "npu-test") + "\n    weights: {bits: 4, granularity: per-tensor}\n", NpuOnly);

        AssertAt(e, ConfigErrorCodes.NotSupportedByDevice, 10, 21);
        Assert.Equal("device 'npu-test' cannot run 4-bit weights", e.Message);
        Assert.Equal("use one of the bit widths it runs: 8", e.Fix);
    }

    [Fact]
    public void Block_granularity_with_8_bit_weights_is_refused_because_the_encoder_would_write_per_channel()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n    weights: {bits: 8, granularity: block, block_size: 32}\n");

        AssertAt(e, ConfigErrorCodes.Conflict, 10, 37);
        Assert.Contains("applies to 4-bit weights", e.Message);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(3)]
    [InlineData(6)]
    public void Weight_bits_the_encoder_does_not_write_are_refused_at_the_bits_line(int bits)
    {
        // The shipped profiles list 2-8, but the QDQ encoder writes only 4 and 8; anything else used to pass validation
        // and fail with QB3006 after the fp32 baseline had run.
        QuantBuildException e = _dir.SingleError(Valid + $"\n    weights: {{bits: {bits}}}\n");

        AssertAt(e, ConfigErrorCodes.OutOfRange, 10, 21);
        Assert.Equal($"'targets.x64.weights.bits' must be 4 or 8, the widths the QDQ encoder writes; got {bits}", e.Message);
    }

    [Fact]
    public void Per_channel_weights_on_a_profile_without_them_are_an_error()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("cpu-x64-vnni", "npu-test") + "\n    weights: {granularity: per-channel}\n", NpuOnly);

        AssertAt(e, ConfigErrorCodes.NotSupportedByDevice, 10, 28);
        Assert.Contains("has no per-channel weight scales", e.Message);
    }

    [Fact]
    public void Weights_default_to_per_tensor_on_a_profile_without_per_channel()
    {
        QuantizeConfig c = _dir.Load(Valid.Replace("cpu-x64-vnni", "npu-test"), NpuOnly);

        Assert.Equal(WeightGranularity.PerTensor, c.Targets[0].Weights.Granularity);
    }

    [Fact]
    public void Gate_values_out_of_range_are_errors()
    {
        IReadOnlyList<QuantBuildException> errors = _dir.Errors(Valid + "\ngate:\n  max_drop: -1\n  min: 101\n");

        Assert.Equal([(ConfigErrorCodes.OutOfRange, 11, 13), (ConfigErrorCodes.OutOfRange, 12, 8)], errors.Select(e => (e.Code, e.Line, e.Column)));
    }

    [Fact]
    public void Relative_max_drop_above_100_percent_is_out_of_range()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\ngate: {max_drop: 150%}\n");

        AssertAt(e, ConfigErrorCodes.OutOfRange, 10, 18);
    }

    [Fact]
    public void A_fractional_floor_for_a_percentage_metric_suggests_the_percentage()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\ngate: {min: 0.85}\n");

        AssertAt(e, ConfigErrorCodes.OutOfRange, 10, 13);
        Assert.Equal("write 85 for 85%", e.Fix);
    }

    [Fact]
    public void Label_metric_without_labels_is_an_error()
    {
        QuantBuildException e = _dir.SingleError(Valid.Replace("  labels: data/eval_labels.npy", "  metric: top5"));

        AssertAt(e, ConfigErrorCodes.LabelsRequired, 6, 11);
        Assert.Contains("agreement", e.Fix);
    }

    [Fact]
    public void Unknown_metric_and_method_suggest_the_closest()
    {
        IReadOnlyList<QuantBuildException> errors = _dir.Errors(Valid
            .Replace("data/calibration.npy", "data/calibration.npy\n  method: entropie")
            .Replace("  labels: data/eval_labels.npy", "  labels: data/eval_labels.npy\n  metric: cosin"));

        Assert.Equal([ConfigErrorCodes.UnknownValue, ConfigErrorCodes.UnknownValue], errors.Select(e => e.Code));
        Assert.Contains("Did you mean 'entropy'?", errors[0].Message);
        Assert.Contains("Did you mean 'cosine'?", errors[1].Message);
    }

    [Fact]
    public void Yaml_syntax_error_is_QB1001_at_the_parser_position()
    {
        ConfigValidationException e = Assert.Throws<ConfigValidationException>(() => _dir.Load("model: model.onnx\ncalibration:\n  data: [a, b\ntargets: {}\n"));

        Assert.Equal(ConfigErrorCodes.Syntax, e.Code);
        Assert.True(e.Line >= 3, e.ToDiagnosticString());
        Assert.StartsWith($"{_dir.YamlPath}({e.Line},{e.Column}): error QB1001: yaml syntax error:", e.ToDiagnosticString());
    }

    [Fact]
    public void Duplicate_keys_are_a_syntax_error()
    {
        ConfigValidationException e = Assert.Throws<ConfigValidationException>(() => _dir.Load(Valid + "\nmodel: other.onnx\n"));

        Assert.Equal(ConfigErrorCodes.Syntax, e.Code);
    }

    [Fact]
    public void Missing_config_file_is_QB1002()
    {
        ConfigValidationException e = Assert.Throws<ConfigValidationException>(() => QuantizeConfigLoader.Load(_dir.P("nope.yaml")));

        Assert.Equal(ConfigErrorCodes.ConfigNotFound, e.Code);
        Assert.Contains("quantbuild init", e.Fix);
    }

    [Fact]
    public void Plugin_path_outside_the_yaml_folder_needs_allow_outside()
    {
        string outside = Path.Combine(Path.GetTempPath(), "qb-outside-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(outside);
        try
        {
            string yaml = Valid + $"\nplugins:\n  - path: {outside}\n";
            QuantBuildException e = _dir.SingleError(yaml);
            AssertAt(e, ConfigErrorCodes.PluginOutsideTree, 11, 11);

            Assert.True(_dir.Load(yaml + "    allow_outside: true\n").Plugins[0].AllowOutside);
        }
        finally
        {
            Directory.Delete(outside);
        }
    }

    [Fact]
    public void Every_error_in_the_file_is_reported_at_once_in_file_order()
    {
        ConfigValidationException e = Assert.Throws<ConfigValidationException>(() => _dir.Load("""
            model: missing.onnx
            calibration:
              data: data/calibration.npy
              method: minmax
              samples: -3
            evaluation:
              data: data/eval_images.npy
              metric: top1
            targets:
              x64:
                device: cpu-x64-vnnni
                wieghts: {bits: 8}
            """));

        Assert.Equal(
            [
                (ConfigErrorCodes.FileNotFound, 1, 8),
                (ConfigErrorCodes.OutOfRange, 5, 12),
                (ConfigErrorCodes.LabelsRequired, 8, 11),
                (ConfigErrorCodes.UnknownDevice, 11, 13),
                (ConfigErrorCodes.UnknownKey, 12, 5),
            ],
            e.Errors.Select(x => (x.Code, x.Line, x.Column)));
        Assert.Equal(ConfigErrorCodes.Several, e.Code);
        Assert.StartsWith("5 errors in quantize.yaml, each on its own line below:", e.Message);
        Assert.Null(e.Fix); // each line has its own; one shared "Fix:" would be glued to the last line
        Assert.All(e.Message.Split(Environment.NewLine), line => Assert.False(char.IsWhiteSpace(line[0]), $"indented: '{line}'"));
        foreach (QuantBuildException error in e.Errors)
        {
            Assert.Contains(error.ToDiagnosticString(), e.Message);
        }
    }

    [Fact]
    public void Two_targets_writing_the_same_file_is_an_error()
    {
        QuantBuildException e = _dir.SingleError(Valid + "\n    output: same.onnx\n  arm:\n    device: cpu-arm64\n    output: same.onnx\n");

        AssertAt(e, ConfigErrorCodes.BadName, 11, 3);
    }

    [Fact]
    public void Block_granularity_needs_a_power_of_two_block_size()
    {
        IReadOnlyList<QuantBuildException> errors = _dir.Errors(Valid + "\n    weights: {bits: 4, granularity: block}\n  b:\n    device: cpu-arm64\n    weights: {bits: 4, granularity: block, block_size: 48}\n");

        Assert.Equal([ConfigErrorCodes.MissingKey, ConfigErrorCodes.OutOfRange], errors.Select(e => e.Code));
    }
}

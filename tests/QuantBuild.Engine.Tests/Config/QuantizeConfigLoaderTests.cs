using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Profiles;

namespace QuantBuild.Engine.Tests.Config;

public sealed class QuantizeConfigLoaderTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Minimal = """
        model: model.onnx
        calibration:
          data: data/calibration.npy
        targets:
          x64:
            device: cpu-x64-vnni
        """;

    [Fact]
    public void Full_config_round_trips_into_the_typed_model()
    {
        _dir.Touch("plugins/MyQuantizer/MyQuantizer.dll");
        QuantizeConfig c = _dir.Load("""
            model: model.onnx
            output: out
            calibration:
              data: data/calibration.npy
              method: percentile
              percentile: 99.9
              samples: 256
              batch_size: 16
            evaluation:
              data: data/eval_images.npy
              labels: data/eval_labels.npy
              metric: topk
              k: 3
              output: logits
              batch_size: 100
            gate:
              max_drop: 0.5
              min: 85
            plugins:
              - path: plugins/MyQuantizer
                sha256: 3F5A000000000000000000000000000000000000000000000000000000000000
              - package: Contoso.QuantBuild.Gptq
                version: 1.2.0
            targets:
              x64:
                device: cpu-x64-vnni
                recipe:
                  - pass: smoothquant
                    alpha: 0.5
                  - adaround
                weights: {bits: 4, granularity: block, block_size: 32}
                exclude:
                  nodes: [fc2]
                  op_types: Gemm
                gate: {max_drop: "1%"}
                output: model.x64.onnx
              arm:
                device: cpu-arm64
            """);

        Assert.Equal(_dir.YamlPath, c.ConfigPath);
        Assert.Equal(_dir.P("model.onnx"), c.ModelPath);
        Assert.Equal(_dir.P("out"), c.OutputDirectory);
        Assert.Equal((DataSourceKind.Npy, _dir.P("data/calibration.npy")), (c.Calibration.Data.Kind, c.Calibration.Data.Path));
        Assert.Equal((CalibrationMethod.Percentile, 99.9, 256, 16), (c.Calibration.Method, c.Calibration.Percentile, c.Calibration.Samples, c.Calibration.BatchSize));
        EvaluationConfig e = c.Evaluation!;
        Assert.Equal((_dir.P("data/eval_labels.npy"), "topk", 3, "logits", 100), (e.LabelsPath, e.Metric, e.K, e.Output, e.BatchSize));
        Assert.Equal((0.5, false, 85.0), (c.Gate!.MaxDrop, c.Gate.MaxDropIsRelative, c.Gate.Min));

        Assert.Equal(2, c.Plugins.Count);
        Assert.Equal(_dir.P("plugins/MyQuantizer"), c.Plugins[0].Path);
        Assert.StartsWith("3f5a", c.Plugins[0].Sha256);
        Assert.Equal(("Contoso.QuantBuild.Gptq", "1.2.0"), (c.Plugins[1].Package, c.Plugins[1].Version));

        Assert.Equal(["x64", "arm"], c.Targets.Select(t => t.Name));
        TargetConfig x64 = c.Targets[0];
        Assert.Same(DeviceProfiles.CpuX64Vnni, x64.Device);
        Assert.Equal(["smoothquant", "adaround"], x64.Recipe.Select(p => p.Name));
        ConfigEntry alpha = Assert.Single(x64.Recipe[0].Options.Entries);
        Assert.Equal(("alpha", "0.5", 29, 16), (alpha.Name, ((ConfigScalar)alpha.Value).Value, alpha.Value.Location.Line, alpha.Value.Location.Column));
        Assert.Empty(x64.Recipe[1].Options.Entries);
        Assert.Equal((4, WeightGranularity.Block, (int?)32), (x64.Weights.Bits, x64.Weights.Granularity, x64.Weights.BlockSize));
        Assert.Equal(["fc2"], x64.Exclude.Nodes);
        Assert.Equal(["Gemm"], x64.Exclude.OpTypes);
        Assert.Equal((1.0, true, 85.0), (x64.Gate!.MaxDrop, x64.Gate.MaxDropIsRelative, x64.Gate.Min));
        Assert.Equal(Path.Combine(_dir.P("out"), "model.x64.onnx"), x64.OutputPath);
        Assert.Equal(new SourceLocation(_dir.YamlPath, 25, 3), x64.Location);
    }

    [Fact]
    public void Omitted_keys_take_their_documented_defaults()
    {
        QuantizeConfig c = _dir.Load(Minimal);

        Assert.Equal(_dir.P("quantized"), c.OutputDirectory);
        Assert.Equal(CalibrationMethod.Auto, c.Calibration.Method);
        Assert.Null(c.Calibration.Percentile);
        Assert.Null(c.Calibration.Samples);
        Assert.Equal(32, c.Calibration.BatchSize);
        Assert.Null(c.Evaluation);
        Assert.Null(c.Gate);
        Assert.Empty(c.Plugins);
        TargetConfig t = Assert.Single(c.Targets);
        Assert.Empty(t.Recipe);
        Assert.Equal(new WeightFormat { Bits = 8, Granularity = WeightGranularity.PerChannel }, t.Weights);
        Assert.Empty(t.Exclude.Nodes);
        Assert.Null(t.Gate);
        Assert.Equal(Path.Combine(_dir.P("quantized"), "model.x64.onnx"), t.OutputPath);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("\n  histogram: sampled", false)]
    [InlineData("\n  histogram: exact", true)]
    [InlineData("\n  method: entropy\n  histogram: exact", true)]
    public void Histograms_are_sampled_unless_exact_is_asked_for(string keys, bool exact)
    {
        QuantizeConfig c = _dir.Load(Minimal.Replace("data/calibration.npy", "data/calibration.npy" + keys));
        Assert.Equal(exact, c.Calibration.ExactHistogram);
    }

    [Theory]
    [InlineData("\n  histogram: exactly", "QB1013", "did you mean 'exact'", 4)]
    [InlineData("\n  method: minmax\n  histogram: exact", "QB1014", "keeps no histogram", 5)]
    public void A_histogram_setting_that_cannot_be_honoured_is_refused_at_its_line(string keys, string code, string says, int line)
    {
        QuantBuildException e = _dir.SingleError(Minimal.Replace("data/calibration.npy", "data/calibration.npy" + keys));
        Assert.Equal((code, line), (e.Code, e.Line));
        Assert.Contains(says, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("quantize.yaml", e.FilePath);
    }

    [Fact]
    public void Percentile_method_defaults_to_99_99()
    {
        QuantizeConfig c = _dir.Load(Minimal.Replace("data/calibration.npy", "data/calibration.npy\n  method: percentile"));
        Assert.Equal(99.99, c.Calibration.Percentile);
    }

    [Fact]
    public void Metric_defaults_to_top1_with_labels_and_agreement_without()
    {
        QuantizeConfig withLabels = _dir.Load(Minimal + "\nevaluation:\n  data: data/eval_images.npy\n  labels: data/eval_labels.npy\n");
        QuantizeConfig without = _dir.Load(Minimal + "\nevaluation:\n  data: data/eval_images.npy\n");

        Assert.Equal(("top1", (int?)1), (withLabels.Evaluation!.Metric, withLabels.Evaluation.K));
        Assert.Equal(("agreement", (int?)null), (without.Evaluation!.Metric, without.Evaluation.K));
    }

    [Fact]
    public void Relative_paths_resolve_from_the_yaml_folder_not_the_working_directory()
    {
        string sub = Path.Combine(_dir.Root, "conf");
        Directory.CreateDirectory(sub);
        string yaml = Path.Combine(sub, "quantize.yaml");
        File.WriteAllText(yaml, Minimal.Replace("model.onnx", "../model.onnx").Replace("data/", "../data/"));

        QuantizeConfig c = QuantizeConfigLoader.Load(yaml);

        Assert.Equal(_dir.P("model.onnx"), c.ModelPath);
        Assert.Equal(_dir.P("data/calibration.npy"), c.Calibration.Data.Path);
        Assert.Equal(Path.Combine(sub, "quantized"), c.OutputDirectory);
    }

    [Fact]
    public void Data_can_be_an_npz_a_test_data_folder_or_a_map_of_inputs()
    {
        _dir.Touch("data/all.npz", "data/pb/test_data_set_0/input_0.pb", "data/ids.npy", "data/mask.npy");

        Assert.Equal(DataSourceKind.Npz, _dir.Load(Minimal.Replace("data/calibration.npy", "data/all.npz")).Calibration.Data.Kind);
        Assert.Equal(DataSourceKind.TensorProtoDirectory, _dir.Load(Minimal.Replace("data/calibration.npy", "data/pb")).Calibration.Data.Kind);
        DataSourceConfig map = _dir.Load(Minimal.Replace("data/calibration.npy", "\n    input_ids: data/ids.npy\n    attention_mask: data/mask.npy")).Calibration.Data;
        Assert.Equal(DataSourceKind.PerInput, map.Kind);
        Assert.Equal(_dir.P("data/mask.npy"), map.Inputs["attention_mask"]);
    }

    [Fact]
    public void Target_gate_overrides_only_the_keys_it_sets()
    {
        QuantizeConfig c = _dir.Load(Minimal.Replace("device: cpu-x64-vnni", "device: cpu-x64-vnni\n    gate: {max_drop: 2}")
            + "\nevaluation: {data: data/eval_images.npy, labels: data/eval_labels.npy}\ngate: {max_drop: 0.5, min: 80}\n");

        Assert.Equal((2.0, 80.0), (c.Targets[0].Gate!.MaxDrop, c.Targets[0].Gate!.Min));
    }

    [Fact]
    public void Known_pass_options_are_bound_during_validation()
    {
        var passes = new[] { new KnownPass("smoothquant", "QuantBuild.Plugins.SmoothQuant", typeof(PassOptionsBinderTests.SmoothOptions)) };
        QuantizeConfig c = _dir.Load(Minimal + "\n    recipe:\n      - pass: smoothquant\n        alpha: 0.7\n", new ConfigValidationOptions { KnownPasses = passes });

        Assert.Equal(0.7, PassOptionsBinder.Bind<PassOptionsBinderTests.SmoothOptions>(c.Targets[0].Recipe[0].Options).Alpha);
    }
}

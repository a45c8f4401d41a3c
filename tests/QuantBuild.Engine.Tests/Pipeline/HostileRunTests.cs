using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// Whole runs on the Fashion-MNIST sample fed broken data (issue 15): each once shipped a wrong model with exit 0
/// or left debris behind. Now each fails with a QB code, ships nothing wrong, and later runs clean up.
/// </summary>
public sealed class HostileRunTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static DenseTensor Images => NpyReader.Read(TestFiles.Sample("eval_images.npy"));

    private static DenseTensor Labels => NpyReader.Read(TestFiles.Sample("eval_labels.npy"));

    private QuantizeConfig Config(string calibration, string images, string labels, string extra = "")
    {
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {TestFiles.Sample("../model.onnx")}
            output: out
            calibration:
              data: {calibration}
              samples: 64
            evaluation:
              data: {images}
              labels: {labels}
              metric: top1
              batch_size: 200
            gate:
              max_drop: 5
            {extra}
            targets:
              x64:
                device: cpu-x64-vnni
            """);
        return QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
    }

    private string Write(string name, DenseTensor tensor)
    {
        DataSourceTests.WriteNpy(_temp.P(name), tensor);
        return _temp.P(name);
    }

    private static RunResult Run(QuantizeConfig config, ResultCache? cache = null) =>
        new QuantizePipeline(config).Run(new PipelineOptions { LayerProbeSamples = 4, WriteReports = false, Cache = cache });

    private static DenseTensor Filled(DenseTensor like, long rows, float value)
    {
        long[] shape = like.ShapeArray();
        shape[0] = rows;
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        Array.Fill(data, value);
        return new DenseTensor(ElementType.Float, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    [Fact]
    public void All_NaN_calibration_data_fails_the_target_with_QB3005_and_ships_nothing()
    {
        string nan = Write("nan.npy", Filled(Images, 64, float.NaN));
        QuantizeConfig config = Config(nan, Write("images.npy", TensorRows.Slice(Images, 0, 200)), Write("labels.npy", TensorRows.Slice(Labels, 0, 200)));

        TargetResult x64 = Run(config).Targets.Single();

        Assert.Equal((TargetStatus.Error, "QB3005"), (x64.Status, x64.ErrorCode));
        Assert.Null(x64.OutputPath);
        Assert.False(File.Exists(_temp.P("out/model.x64.onnx")));
    }

    [Fact]
    public void Zero_evaluation_rows_are_QB1259_not_a_pass()
    {
        QuantizeConfig config = Config(TestFiles.Sample("calibration.npy"), Write("images.npy", Filled(Images, 0, 0)), Write("labels.npy", TensorRows.Slice(Labels, 0, 0)));

        var e = Assert.Throws<QuantBuildException>(() => Run(config));

        Assert.Equal("QB1259", e.Code);
        Assert.Contains("images.npy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void All_NaN_evaluation_data_is_QB1260_not_a_pass()
    {
        QuantizeConfig config = Config(TestFiles.Sample("calibration.npy"), Write("images.npy", Filled(Images, 200, float.NaN)), Write("labels.npy", TensorRows.Slice(Labels, 0, 200)));

        var e = Assert.Throws<QuantBuildException>(() => Run(config));

        Assert.Equal("QB1260", e.Code);
        Assert.Contains("sample 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_thousand_and_one_labels_for_two_thousand_samples_are_QB1250()
    {
        DenseTensor labels = Labels;
        DenseTensor extra = TensorRows.Concat([labels, TensorRows.Slice(labels, 0, 1)]);
        QuantizeConfig config = Config(TestFiles.Sample("calibration.npy"), TestFiles.Sample("eval_images.npy"), Write("labels.npy", extra));

        var e = Assert.Throws<QuantBuildException>(() => Run(config));

        Assert.Equal("QB1250", e.Code);
        Assert.Contains("2001 labels for 2000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_plugin_path_fails_only_the_target_that_needs_it_with_QB2001()
    {
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {TestFiles.Sample("../model.onnx")}
            output: out
            calibration:
              data: {TestFiles.Sample("calibration.npy")}
              samples: 64
            plugins:
              - path: plugins/NotBuiltYet
            targets:
              plain:
                device: cpu-x64-vnni
              needs-it:
                device: cpu-x64-vnni
                recipe: [not-built-pass]
            """);
        QuantizeConfig config = QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
        using var host = Engine.Plugins.PluginHost.Load(config, Fixtures.NoFirstParty);

        RunResult run = new QuantizePipeline(config, plugins: host).Run(new PipelineOptions { LayerProbeSamples = 4, WriteReports = false });

        Assert.Equal(TargetStatus.Passed, run.Targets.Single(t => t.Name == "plain").Status);
        TargetResult failed = run.Targets.Single(t => t.Name == "needs-it");
        Assert.Equal((TargetStatus.Error, "QB2001"), (failed.Status, failed.ErrorCode));
        Assert.Contains("NotBuiltYet", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Temp_files_and_cache_folders_left_by_a_killed_run_are_removed_by_the_next_run()
    {
        QuantizeConfig config = Config(TestFiles.Sample("calibration.npy"), Write("images.npy", TensorRows.Slice(Images, 0, 200)), Write("labels.npy", TensorRows.Slice(Labels, 0, 200)));
        Directory.CreateDirectory(_temp.P("out"));
        // A pid no process can have (above Linux's pid_max) stands for a killed run; pid 1 for a live concurrent one.
        string dead = _temp.P($"out/.model.x64.onnx.{int.MaxValue}.{Guid.NewGuid():N}.tmp");
        string live = _temp.P($"out/.model.x64.onnx.1.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(dead, "half a model");
        File.WriteAllText(live, "a concurrent build's model");
        var cache = new ResultCache(_temp.P("cache"));
        string deadCache = _temp.P($"cache/ab/.tmp-abcdefabcdef-{int.MaxValue}-{Guid.NewGuid():N}");
        string evicted = _temp.P($"cache/ab/{new string('a', 64)}.bad-{Guid.NewGuid():N}");
        Directory.CreateDirectory(deadCache);
        Directory.CreateDirectory(evicted);

        RunResult run = Run(config, new ResultCache(_temp.P("cache")));

        Assert.Equal(TargetStatus.Passed, run.Targets.Single().Status);
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.False(Directory.Exists(deadCache));
        Assert.False(Directory.Exists(evicted));
        Assert.Equal(0, cache.RemoveStale());
    }

    [Fact]
    public void A_folder_standing_at_a_targets_model_path_fails_that_target_with_QB5010_and_leaves_it_alone()
    {
        // Found by the run campaign (RunFuzzTests): the rename onto a folder escaped as QB0001 and ended the run.
        QuantizeConfig config = Config(Write("calibration.npy", TensorRows.Slice(Images, 0, 64)), Write("images.npy", TensorRows.Slice(Images, 0, 200)),
            Write("labels.npy", TensorRows.Slice(Labels, 0, 200)));
        Directory.CreateDirectory(_temp.P("out/model.x64.onnx"));
        File.WriteAllText(_temp.P("out/model.x64.onnx/keep.txt"), "not ours");

        TargetResult x64 = Run(config).Targets.Single();

        Assert.Equal((TargetStatus.Error, "QB5010"), (x64.Status, x64.ErrorCode));
        Assert.Contains("model.x64.onnx", x64.Error, StringComparison.Ordinal);
        Assert.Equal("not ours", File.ReadAllText(_temp.P("out/model.x64.onnx/keep.txt")));
        Assert.Empty(Directory.EnumerateFiles(_temp.P("out"), "*.tmp"));
    }

    [Fact]
    public void An_output_folder_where_a_file_stands_is_refused_at_validation_with_QB1017()
    {
        File.WriteAllText(_temp.P("out"), "a file, not a folder");

        var error = Assert.ThrowsAny<QuantBuildException>(() => Config(TestFiles.Sample("calibration.npy"), TestFiles.Sample("eval_images.npy"),
            TestFiles.Sample("eval_labels.npy")));

        Assert.Contains("QB1017", error.ToDiagnosticString(), StringComparison.Ordinal);
        Assert.Contains("is a file", error.ToDiagnosticString(), StringComparison.Ordinal);
        Assert.Equal("a file, not a folder", File.ReadAllText(_temp.P("out")));
    }
}

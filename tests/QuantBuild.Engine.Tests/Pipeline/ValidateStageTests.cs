using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>Impossible settings fail before the model is loaded or anything runs, each with its QB code.</summary>
public sealed class ValidateStageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private QuantizeConfig Config(string model, string labels, string extra = "")
    {
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {model}
            output: out
            calibration:
              data: {TestFiles.Sample("calibration.npy")}
              samples: 64
            evaluation:
              data: {TestFiles.Sample("eval_images.npy")}
              labels: {labels}
              metric: top1
              {extra}
            targets:
              x64:
                device: cpu-x64-vnni
            """);
        return QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
    }

    [Fact]
    public void A_label_count_mismatch_is_QB1250_before_the_model_is_read()
    {
        // Not an ONNX file at all: loading it would be QB110x. The label count is checked first, from the .npy headers.
        File.WriteAllBytes(_temp.P("model.onnx"), [0xff, 0xfe, 0x00, 0x01, 0x02]);
        DenseTensor labels = NpyReader.Read(TestFiles.Sample("eval_labels.npy"));
        DataSourceTests.WriteNpy(_temp.P("labels.npy"), TensorRows.Slice(labels, 0, 1999));

        var e = Assert.Throws<QuantBuildException>(() => new QuantizePipeline(Config(_temp.P("model.onnx"), _temp.P("labels.npy")))
            .Run(new PipelineOptions { WriteReports = false }));

        Assert.Equal("QB1250", e.Code);
        Assert.Contains("1999 labels for 2000 evaluation samples", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.P("out")), "nothing was started: no scratch folder, no output");
    }

    [Fact]
    public void An_evaluation_output_the_model_does_not_have_is_QB1305_at_its_yaml_line_before_the_baseline_runs()
    {
        QuantizeConfig config = Config(TestFiles.Sample("../model.onnx"), TestFiles.Sample("eval_labels.npy"), "output: logitz");

        var e = Assert.Throws<QuantBuildException>(() => new QuantizePipeline(config).Run(new PipelineOptions { WriteReports = false }));

        Assert.Equal("QB1305", e.Code);
        Assert.Contains("evaluation.output 'logitz'", e.Message, StringComparison.Ordinal);
        Assert.Equal(_temp.P("quantize.yaml"), e.FilePath);
        Assert.Equal(config.Evaluation!.Location.Line, e.Line);
    }
}

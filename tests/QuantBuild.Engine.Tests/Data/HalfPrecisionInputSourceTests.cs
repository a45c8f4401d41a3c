using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Engine.Tests.Rewrites;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>An fp16 model is calibrated, evaluated and gated as it is, from the float32 data an fp32 model would take.</summary>
public sealed class HalfPrecisionInputSourceTests
{
    [Fact]
    public void Float32_data_is_read_as_the_inputs_half_type_and_half_data_passes_through()
    {
        OnnxModel model = Float16RewriteTests.HalfConvNet();
        float[] values = [1f, -2.5f, 65504f, 1e-8f, 0.1f];
        using IDataSource wrapped = HalfPrecisionInputSource.Wrap(new InMemoryDataSource("test", [("x", DenseTensor.FromFloats(values, 5))]), model);

        DenseTensor read = wrapped.Read(0, 5)["x"];

        Assert.Equal(ElementType.Float16, read.ElementType);
        Assert.Equal(values.Select(v => (float)(Half)v), read.AsSpan<Half>().ToArray().Select(h => (float)h));
        DenseTensor half = HalfPrecision.FromFloat(DenseTensor.FromFloats(values, 5), ElementType.Float16);
        using IDataSource already = HalfPrecisionInputSource.Wrap(new InMemoryDataSource("test", [("x", half)]), model);
        DenseTensor passed = already.Read(0, 5)["x"];
        Assert.Equal(ElementType.Float16, passed.ElementType);
        Assert.Equal(half.Data.ToArray(), passed.Data.ToArray());
    }

    [Fact]
    public void Bfloat16_rounds_to_nearest_even_and_converts_back()
    {
        // 1 + 2^-8 is halfway between two bfloat16 values: ties go to the even one (1.0); 1 + 3·2^-8 rounds up.
        float[] values = [1f + 1f / 256, 1f + 3f / 256, -3.140625f, float.PositiveInfinity];
        DenseTensor b = HalfPrecision.FromFloat(DenseTensor.FromFloats(values, 4), ElementType.BFloat16);
        float[] back = HalfPrecision.ToFloat(b).AsSpan<float>().ToArray();
        Assert.Equal(new[] { 1f, 1f + 4f / 256, -3.140625f, float.PositiveInfinity }, back);
        Assert.True(float.IsNaN(HalfPrecision.ToFloat(HalfPrecision.FromFloat(DenseTensor.FromFloats([float.NaN], 1), ElementType.BFloat16)).AsSpan<float>()[0]));
    }

    [Fact]
    public void An_fp16_model_runs_through_the_pipeline_on_float32_files_and_is_gated_against_its_own_fp16_outputs()
    {
        using var folder = new TempFolder();
        OnnxModel half = Float16RewriteTests.HalfConvNet();
        File.WriteAllBytes(Path.Combine(folder.Path, "model.onnx"), OnnxModelSaver.SaveToBytes(half));
        float[] calibration = TestGraphs.Normal(11, 64 * 3 * 16 * 16, 1f);
        float[] evaluation = TestGraphs.Normal(12, 48 * 3 * 16 * 16, 1f);
        DataSourceTests.WriteNpy(Path.Combine(folder.Path, "cal.npy"), DenseTensor.FromFloats(calibration, 64, 3, 16, 16));
        DataSourceTests.WriteNpy(Path.Combine(folder.Path, "eval.npy"), DenseTensor.FromFloats(evaluation, 48, 3, 16, 16));
        string yaml = Path.Combine(folder.Path, "quantize.yaml");
        File.WriteAllText(yaml, """
            model: model.onnx
            output: out
            calibration: { data: cal.npy, batch_size: 16 }
            evaluation: { data: eval.npy, metric: sqnr, batch_size: 16 }
            gate: { min: 20 }
            targets:
              x64: { device: cpu-x64-vnni }
            """);

        RunResult run = new QuantizePipeline(QuantizeConfigLoader.Load(yaml)).Run(new PipelineOptions());

        TargetResult t = run.Targets.Single();
        Assert.True(t.Status == TargetStatus.Passed, t.Error ?? t.GateMessage);
        Assert.Contains(t.FloatNodes, n => n.OpType == "Cast"); // the fp16 boundary stays as it was
        OnnxModel written = OnnxModelLoader.Load(t.OutputPath!);
        Assert.Equal(ElementType.Float16, written.Graph.Inputs[0].TensorType!.ElementType);
        Assert.Equal(ElementType.Float16, written.Graph.Outputs[0].TensorType!.ElementType);
        Assert.Contains(written.Graph.Nodes, n => n.OpType == "QuantizeLinear");

        // The gate's SQNR is against the fp16 model's own outputs, as ONNX Runtime computes them.
        DenseTensor x = HalfPrecision.FromFloat(DenseTensor.FromFloats(evaluation, 48, 3, 16, 16), ElementType.Float16);
        float[] reference = Run(half, x);
        float[] quantized = Run(written, x);
        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            signal += reference[i] * (double)reference[i];
            noise += (reference[i] - quantized[i]) * (double)(reference[i] - quantized[i]);
        }

        Assert.Equal(10 * Math.Log10(signal / noise), t.QuantizedValue!.Value, 1);
    }

    private static float[] Run(OnnxModel model, DenseTensor x)
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model), new SessionOptions { IntraOpNumThreads = 1 });
        return HalfPrecision.ToFloat(session.Run(new Dictionary<string, DenseTensor> { ["x"] = x }, new[] { "logits" })["logits"]).AsSpan<float>().ToArray();
    }
}

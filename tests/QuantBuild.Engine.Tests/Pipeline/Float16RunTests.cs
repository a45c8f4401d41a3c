using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// A torch-exported float16 conv net (model.half(), Fixtures/make_torch_models.py) through the whole run: the shipped
/// model still reads and writes float16, and the gate's number is the quantized model measured against the fp16
/// model's own outputs.
/// </summary>
public sealed class Float16RunTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_torch_half_conv_net_ships_with_its_fp16_interface_gated_against_the_fp16_outputs()
    {
        string model = DynamicActivationTests.Fixture("fp16_convnet.onnx");
        DataSourceTests.WriteNpy(_temp.P("calibration.npy"), DenseTensor.FromFloats(TestGraphs.Normal(31, 64 * 3 * 16 * 16, 1f), 64, 3, 16, 16));
        float[] eval = TestGraphs.Normal(32, 100 * 3 * 16 * 16, 1f);
        DataSourceTests.WriteNpy(_temp.P("eval.npy"), DenseTensor.FromFloats(eval, 100, 3, 16, 16));
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {model}
            output: out
            calibration: {"{"} data: calibration.npy {"}"}
            evaluation: {"{"} data: eval.npy, metric: cosine, batch_size: 25 {"}"}
            gate: {"{"} min: 0.98 {"}"}
            targets:
              x64: {"{"} device: cpu-x64-vnni {"}"}
            """);

        RunResult run = new QuantizePipeline(QuantizeConfigLoader.Load(_temp.P("quantize.yaml"))).Run(new PipelineOptions { WriteReports = false });

        TargetResult t = Assert.Single(run.Targets);
        Assert.Equal(TargetStatus.Passed, t.Status);
        OnnxModel written = OnnxModelLoader.Load(t.OutputPath!);
        Assert.Equal(ElementType.Float16, written.Graph.Inputs[0].TensorType!.ElementType);
        Assert.Equal(ElementType.Float16, written.Graph.Outputs[0].TensorType!.ElementType);
        Assert.Contains(written.Graph.Nodes, n => n.OpType == "DequantizeLinear");

        // The gate's reference is the fp16 model itself: its per-row cosine against the shipped model is the reported value.
        DenseTensor x = DenseTensor.Create(ElementType.Float16, eval.Select(v => (Half)v).ToArray().AsSpan(), [100, 3, 16, 16]);
        float[] reference = RunHalf(File.ReadAllBytes(model), x);
        float[] quantized = RunHalf(File.ReadAllBytes(t.OutputPath!), x);
        double mean = Enumerable.Range(0, 100).Average(r => OrtHarness.Cosine(reference.AsSpan(r * 4, 4), quantized.AsSpan(r * 4, 4)));
        output.WriteLine($"reported cosine {t.QuantizedValue:F6}, recomputed against the fp16 model {mean:F6}");
        Assert.Equal(1.0, t.Fp32Value!.Value, 6);
        Assert.Equal(mean, t.QuantizedValue!.Value, 3);
    }

    private static float[] RunHalf(byte[] model, DenseTensor x)
    {
        using var session = new InferenceSession(model, new SessionOptions { IntraOpNumThreads = 1 });
        DenseTensor y = session.Run(new Dictionary<string, DenseTensor> { ["x"] = x }, ["logits"])["logits"];
        Assert.Equal(ElementType.Float16, y.ElementType);
        return y.AsSpan<Half>().ToArray().Select(v => (float)v).ToArray();
    }
}

using System.Text.Json;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Inspection;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// `run` with 4-bit weights in each deployed format, end to end on a small MLP: the file holds the format asked for, the
/// gate and the kernel check ran it, inspect and the manifest see its MatMuls as 4-bit layers, and the manifest records
/// the format and the accuracy level the numbers were measured at.
/// </summary>
public sealed class FourBitFormatRunTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Each_format_is_written_gated_kernel_checked_and_recorded_in_the_manifest()
    {
        RunResult run = Run("""
              nbits:
                device: cpu-x64-vnni
                weights: {bits: 4, block_size: 16, zero_point: true, accuracy_level: 1}
              blocked:
                device: cpu-x64-vnni
                weights: {bits: 4, format: qdq-blocked, block_size: 16, accuracy_level: 1}
            """);

        TargetResult nbits = run.Targets.Single(t => t.Name == "nbits");
        TargetResult blocked = run.Targets.Single(t => t.Name == "blocked");
        Assert.True(nbits.Status == TargetStatus.Passed, nbits.Error ?? nbits.GateMessage);
        Assert.True(blocked.Status == TargetStatus.Passed, blocked.Error ?? blocked.GateMessage);

        Graph written = OnnxModelLoader.Load(nbits.OutputPath!).Graph;
        Assert.Equal(["fc1", "fc2"], written.Nodes.Where(n => n.OpType == "MatMulNBits").Select(n => n.Name));
        Assert.All(written.Nodes.Where(n => n.OpType == "MatMulNBits"), n => Assert.Equal(1, n.FindAttribute("accuracy_level")!.Int));
        Assert.Equal(2, OnnxModelLoader.Load(blocked.OutputPath!).Graph.Nodes.Count(n => n.OpType == "DequantizeLinear" && n.FindAttribute("block_size") is not null));

        // MatMulNBits runs as written, nothing left in float. The blocked form depends on ORT's own DQ → MatMul fusion,
        // which ORT 1.30 skips for some MatMuls (here the one reading the graph input): every 4-bit layer is either
        // fused or named as a float layer on a dequantized weight, never silently neither.
        Assert.Empty(nbits.Kernels!.UnfusedNodes);
        Assert.Equal(2, nbits.Kernels.OptimizedOpCounts.GetValueOrDefault("MatMulNBits"));
        Assert.False(nbits.Kernels.OptimizedOpCounts.ContainsKey("DequantizeLinear"));
        Assert.Equal(2, blocked.Kernels!.OptimizedOpCounts.GetValueOrDefault("MatMulNBits") + blocked.Kernels.UnfusedNodes.Count);
        Assert.All(blocked.Kernels.UnfusedNodes, u => Assert.Equal("MatMul", u.OpType));

        ModelReport inspected = ModelInspector.Inspect(OnnxModelLoader.Load(nbits.OutputPath!), nbits.OutputPath!);
        Assert.True(inspected.AlreadyQuantized);
        Assert.Contains(inspected.Ops, o => o.OpType == "com.microsoft.MatMulNBits" && o.Count == 2);

        using JsonDocument nbitsManifest = JsonDocument.Parse(File.ReadAllText(nbits.ManifestPath!));
        JsonElement weights = nbitsManifest.RootElement.GetProperty("weights");
        Assert.Equal("matmulnbits", weights.GetProperty("format").GetString());
        Assert.True(weights.GetProperty("zeroPoint").GetBoolean());
        Assert.Equal(1, weights.GetProperty("accuracyLevel").GetInt32());
        Assert.Equal(["fc1", "fc2"], weights.GetProperty("written").GetProperty("4").EnumerateArray().Select(e => e.GetString()));

        using JsonDocument blockedManifest = JsonDocument.Parse(File.ReadAllText(blocked.ManifestPath!));
        Assert.Equal("qdq-blocked", blockedManifest.RootElement.GetProperty("weights").GetProperty("format").GetString());
        Assert.Equal("1", blockedManifest.RootElement.GetProperty("device").GetProperty("sessionConfig").GetProperty(WeightFormat.QdqAccuracyLevelKey).GetString());
    }

    private RunResult Run(string targets)
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "batch", 64));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "batch", 16));
        g.AddWeight("w1", 1, 0.2f, 64, 48);
        g.AddWeight("w2", 2, 0.2f, 48, 16);
        g.AddNode("MatMul", "fc1", new[] { "x", "w1" }, new[] { "h" });
        g.AddNode("Relu", "relu", new[] { "h" }, new[] { "r" });
        g.AddNode("MatMul", "fc2", new[] { "r", "w2" }, new[] { "y" });
        OnnxModelSaver.Save(model, _temp.P("model.onnx"));
        DataSourceTests.WriteNpy(_temp.P("data.npy"), DenseTensor.FromFloats(TestGraphs.Normal(3, 32 * 64, 1f), 32, 64));
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: model.onnx
            output: out
            calibration:
              data: data.npy
            evaluation:
              data: data.npy
              metric: cosine
              batch_size: 8
            gate:
              min: 0.95
            targets:
            {targets}
            """);
        QuantizeConfig config = QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
        return new QuantizePipeline(config).Run(new PipelineOptions { LayerProbeSamples = 8, WriteReports = false });
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary><c>weights.granularity: per-tensor</c> reaches the encoder: one scale per weight tensor, not one per channel.</summary>
public sealed class QdqEncoderGranularityTests
{
    private static TargetConfig Target(WeightGranularity granularity) => new()
    {
        Name = "x64",
        Device = DeviceProfiles.CpuX64Vnni,
        Recipe = [],
        Exclude = ExcludeConfig.None,
        Weights = new WeightFormat { Bits = 8, Granularity = granularity },
        OutputPath = "model.x64.onnx",
        Location = new SourceLocation("quantize.yaml", 1, 1),
    };

    [Fact]
    public void Per_tensor_target_writes_one_scale_per_weight_with_max_abs_over_127()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        EncodeOptions options = TargetEncoding.Options(Target(WeightGranularity.PerTensor));

        Graph g = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), options).Model.Graph;

        foreach (string layer in new[] { "conv1", "conv2", "fc" })
        {
            Node dq = g.DequantizeFeeding(g.Nodes.Single(n => n.Name == layer), 1);
            Assert.Null(dq.FindAttribute("axis"));
            TensorValue scale = g.Initializer(dq.Inputs[1]);
            Assert.Empty(scale.Dims);
            float[] w = fp32.Graph.Initializer(layer + ".weight").Floats();
            float maxAbs = w.Max(MathF.Abs);
            Assert.Equal(maxAbs / 127f, scale.Floats()[0], 6);
            Assert.Equal(ElementType.Int8, g.Initializer(dq.Inputs[0]).ElementType);
        }
    }

    [Fact]
    public void Per_channel_target_keeps_one_scale_per_output_channel()
    {
        Graph g = QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), TargetEncoding.Options(Target(WeightGranularity.PerChannel))).Model.Graph;

        Node dq = g.DequantizeFeeding(g.Nodes.Single(n => n.Name == "conv2"), 1);
        Assert.Equal(new long[] { 16 }, g.Initializer(dq.Inputs[1]).Dims);
    }
}

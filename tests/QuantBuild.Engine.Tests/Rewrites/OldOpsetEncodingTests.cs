using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>Models exported at opset 9 and 11 go through the encoder as they are and come out close to fp32.</summary>
public sealed class OldOpsetEncodingTests(ITestOutputHelper output)
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    /// <summary>
    /// SmallConvNet at <paramref name="opset"/> with the old forms exporters wrote: Clip with min/max attributes
    /// (ReLU6) at 9, Unsqueeze/Squeeze with axes attributes at 11, and a Softmax head with the pre-13 default axis.
    /// </summary>
    private static OnnxModel OldNet(long opset)
    {
        OnnxModel m = TestGraphs.SmallConvNet(opset);
        m.IrVersion = 5;
        Graph g = m.Graph;
        Node relu = g.Nodes.Single(n => n.Name == "relu1");
        if (opset < 11)
        {
            relu.OpType = "Clip";
            relu.Attributes.Add(NodeAttribute.FromFloat("min", 0f));
            relu.Attributes.Add(NodeAttribute.FromFloat("max", 6f));
        }
        else
        {
            int at = g.Nodes.IndexOf(relu) + 1;
            g.Nodes.Insert(at, new Node { OpType = "Unsqueeze", Name = "unsq", Inputs = { "r1" }, Outputs = { "r1_5d" }, Attributes = { NodeAttribute.FromInts("axes", 1) } });
            g.Nodes.Insert(at + 1, new Node { OpType = "Squeeze", Name = "sq", Inputs = { "r1_5d" }, Outputs = { "r1_4d" }, Attributes = { NodeAttribute.FromInts("axes", 1) } });
            g.Nodes.Single(n => n.Name == "pool1").Inputs.Replace(0, "r1_4d");
        }

        g.Outputs.Clear();
        g.Outputs.Add(TestGraphs.Value("probabilities", ElementType.Float, "batch", 10));
        g.AddNode("Softmax", "softmax", ["logits"], ["probabilities"]);
        return m;
    }

    [Theory]
    [InlineData(9)]
    [InlineData(11)]
    public void Old_opset_model_is_encoded_runs_in_ORT_and_stays_close_to_fp32(long opset)
    {
        OnnxModel fp32 = OldNet(opset);
        DenseTensor calibration = DenseTensor.FromFloats(TestGraphs.Normal(100, 64 * 3 * 16 * 16, 1f), 64, 3, 16, 16);
        DenseTensor eval = DenseTensor.FromFloats(TestGraphs.Normal(200, 32 * 3 * 16 * 16, 1f), 32, 3, 16, 16);
        var ranges = OrtHarness.MinMax(fp32, QdqEncoder.Plan(fp32, Vnni), [calibration], "x");

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        Assert.Equal(13, result.Model.OpsetVersion());
        Assert.Equal(opset, fp32.OpsetVersion());
        Assert.True(result.QuantizedLayers.Count >= 3, $"{result.QuantizedLayers.Count} layers quantized");
        float[] expected = OrtHarness.Run(fp32, "x", eval, "probabilities");
        float[] actual = OrtHarness.Run(result.Model, "x", eval, "probabilities");
        double cosine = OrtHarness.Cosine(expected, actual);
        int agree = OrtHarness.ArgMaxAgreement(expected, actual, 10);
        output.WriteLine($"opset {opset}: cosine {cosine:F5}, top-1 agreement {agree}/32, {result.QuantizedLayers.Count} layers");
        Assert.True(cosine > 0.99, $"cosine {cosine}");
        Assert.True(agree >= 28, $"top-1 agreement {agree}/32");
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>Layers inside If/Loop bodies stay fp32 and are reported; outer weights they read survive the encoding.</summary>
public sealed class QdqEncoderSubgraphTests
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Outer_weight_read_inside_an_If_branch_is_kept_in_fp32_and_the_model_still_runs()
    {
        OnnxModel fp32 = WithIfHead();
        // The branch input does not change the main-graph activations the plan asks for, so the If-free net calibrates them.
        var ranges = OrtHarness.MinMax(TestGraphs.SmallConvNet(), QdqEncoder.Plan(fp32, Vnni), new[] { Input(1) }, "x");

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        Graph g = result.Model.Graph;
        Assert.Equal(ElementType.Float, g.Initializer("fc.weight").ElementType);
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "fc");
        Assert.Contains(new UnquantizedNode("head", "If", "control flow: its subgraphs stay fp32 because calibration cannot observe their activations"), result.UnquantizedNodes);
        Assert.Contains(new UnquantizedNode("inner_fc", "Gemm", "inside a subgraph of head: calibration cannot observe subgraph activations"), result.UnquantizedNodes);

        foreach (bool useHead in new[] { true, false })
        {
            var inputs = new Dictionary<string, DenseTensor>
            {
                ["x"] = Input(2),
                ["use_head"] = new DenseTensor(ElementType.Bool, Array.Empty<long>(), new[] { (byte)(useHead ? 1 : 0) }),
            };
            float[] expected = RunBranched(fp32, inputs);
            float[] actual = RunBranched(result.Model, inputs);
            Assert.True(OrtHarness.Cosine(expected, actual) > 0.99);
        }
    }

    private static float[] RunBranched(OnnxModel model, Dictionary<string, DenseTensor> inputs)
    {
        using var session = new InferenceSession(Onnx.OnnxModelSaver.SaveToBytes(model));
        return session.Run(inputs, new[] { "branched" })["branched"].AsSpan<float>().ToArray();
    }

    private static DenseTensor Input(int seed) => DenseTensor.FromFloats(TestGraphs.Normal(seed, 8 * 3 * 16 * 16, 1f), 8, 3, 16, 16);

    // SmallConvNet plus If(use_head): then → Gemm(f, fc.weight, fc.bias) read from the outer scope, else → logits.
    private static OnnxModel WithIfHead()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("use_head", ElementType.Bool));
        g.Outputs.Add(TestGraphs.Value("branched", ElementType.Float, "batch", 10));

        var thenBranch = new Graph { Name = "then" };
        thenBranch.AddNode("Gemm", "inner_fc", new[] { "f", "fc.weight", "fc.bias" }, new[] { "then_out" }, NodeAttribute.FromInt("transB", 1));
        thenBranch.Outputs.Add(TestGraphs.Value("then_out", ElementType.Float, "batch", 10));
        var elseBranch = new Graph { Name = "else" };
        elseBranch.AddNode("Identity", "pass", new[] { "logits" }, new[] { "else_out" });
        elseBranch.Outputs.Add(TestGraphs.Value("else_out", ElementType.Float, "batch", 10));
        g.AddNode("If", "head", new[] { "use_head" }, new[] { "branched" },
            NodeAttribute.FromGraph("then_branch", thenBranch), NodeAttribute.FromGraph("else_branch", elseBranch));
        return model;
    }
}

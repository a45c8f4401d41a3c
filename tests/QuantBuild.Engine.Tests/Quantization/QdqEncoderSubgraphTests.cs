using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>A layer inside an If branch reading an outer weight is quantized in the branch; the model still runs both ways.</summary>
public sealed class QdqEncoderSubgraphTests
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Outer_weight_read_inside_an_If_branch_is_quantized_in_the_branch_and_the_model_still_runs()
    {
        OnnxModel fp32 = WithIfHead();
        // The branch input does not change the main-graph activations the plan asks for, so the If-free net calibrates
        // them; the branch's witness (its Gemm output, observed to know the branch ran) is given a range as if it had.
        IReadOnlyList<string> plan = QdqEncoder.Plan(fp32, Vnni);
        Assert.Contains("then_out", plan);
        var ranges = OrtHarness.MinMax(TestGraphs.SmallConvNet(), plan.Where(t => t != "then_out").ToList(), new[] { Input(1) }, "x");
        ranges["then_out"] = new TensorRange(-1, 1);

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        Graph g = result.Model.Graph;
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "fc");
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "inner_fc");
        Assert.Contains(new UnquantizedNode("head", "If", "control flow: the If itself stays fp32; the ops in its branches are quantized on their own"), result.UnquantizedNodes);
        Graph then = g.Nodes.Single(n => n.OpType == "If").FindAttribute("then_branch")!.Graph!;
        Assert.Equal("DequantizeLinear", then.ProducerOf(then.Nodes.Single(n => n.Name == "inner_fc").Inputs[1]).OpType);

        // Without the witness's range the branch counts as never run: it stays fp32, and says why.
        ranges.Remove("then_out");
        Assert.Contains(new UnquantizedNode("inner_fc", "Gemm", Branches.NotReached), QdqEncoder.Encode(fp32, ranges, Vnni).UnquantizedNodes);

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

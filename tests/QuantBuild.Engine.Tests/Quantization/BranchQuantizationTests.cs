using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>
/// Ops inside If branches are calibrated through their If and quantized like the main graph's; a branch the
/// calibration data never takes stays fp32 with its reason. The models are built here: x → If(c) whose branches hold
/// Conv → Relu → Flatten → MatMul, with weights outside the branch, inside it as Constant nodes, and as its initializers.
/// </summary>
public sealed class BranchQuantizationTests
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Branch_tensors_calibrate_to_the_ranges_of_the_branch_run_as_a_plain_graph()
    {
        OnnxModel model = OneIf();
        List<string> branchTensors = QdqEncoder.Plan(model, Vnni).Where(t => t.StartsWith("then_", StringComparison.Ordinal)).ToList();
        Assert.Contains("then_relu_out", branchTensors); // the Conv's output is written on the Relu's grid

        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), taken: true);
        Dictionary<string, TensorRange> plain = OrtHarness.MinMax(ThenBranchInlined(), branchTensors, Batches(), "x");

        foreach (string tensor in branchTensors)
        {
            TensorObserver seen = calibrated.Observers[tensor];
            Assert.Equal(plain[tensor].Min, seen.Min, 5);
            Assert.Equal(plain[tensor].Max, seen.Max, 5);
        }

        // The other branch ran on nothing: its observers saw no element, so it gets no range at all.
        Assert.All(calibrated.Observers.Where(o => o.Key.StartsWith("else_", StringComparison.Ordinal)), o => Assert.Equal(0, o.Value.Count));
    }

    [Fact]
    public void A_taken_branch_gets_QDQ_and_matches_fp32_while_the_branch_never_taken_stays_fp32_with_its_reason()
    {
        OnnxModel model = OneIf();
        IReadOnlyList<string> plan = QdqEncoder.Plan(model, Vnni);

        EncodeResult result = QdqEncoder.Encode(model, Ranges(Calibrate(model, plan, taken: true)), Vnni);

        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "then_conv");
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "then_fc");
        Assert.Contains(new UnquantizedNode("else_conv", "Conv", Branches.NotReached), result.UnquantizedNodes);
        Assert.Contains(new UnquantizedNode("else_fc", "MatMul", Branches.NotReached), result.UnquantizedNodes);
        Graph then = Branch(result.Model.Graph, "then_branch");
        Assert.Contains(then.Nodes, n => n.OpType == "QuantizeLinear");
        Node conv = then.Nodes.Single(n => n.Name == "then_conv");
        Assert.Equal("DequantizeLinear", then.ProducerOf(conv.Inputs[1]).OpType); // the outer-scope weight, quantized in the branch
        Node fc = then.Nodes.Single(n => n.Name == "then_fc");
        Assert.Equal("DequantizeLinear", then.ProducerOf(fc.Inputs[1]).OpType); // the branch's Constant-node weight
        Assert.DoesNotContain(Branch(result.Model.Graph, "else_branch").Nodes, n => n.OpType is "QuantizeLinear" or "DequantizeLinear");
        Assert.DoesNotContain(Branch(model.Graph, "then_branch").Nodes, n => n.OpType == "DequantizeLinear"); // the input model is untouched
        Assert.DoesNotContain(result.Model.Graph.Initializers, t => t.Name == "then.conv.weight"); // only the branch read it

        DenseTensor x = Input(7);
        float[] expected = Run(model, x, taken: true);
        float[] actual = Run(result.Model, x, taken: true);
        Assert.True(OrtHarness.Cosine(expected, actual) > 0.995, $"cosine {OrtHarness.Cosine(expected, actual)}");
        Assert.NotEqual(expected, actual);
        Assert.Equal(Run(model, x, taken: false), Run(result.Model, x, taken: false));
    }

    [Fact]
    public void An_If_nested_two_deep_is_calibrated_through_both_Ifs_and_quantized_inside()
    {
        OnnxModel model = NestedIf();
        IReadOnlyList<string> plan = QdqEncoder.Plan(model, Vnni);
        List<string> inner = plan.Where(t => t.StartsWith("then_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(inner);

        CalibrationResult calibrated = Calibrate(model, plan, taken: true);
        Dictionary<string, TensorRange> plain = OrtHarness.MinMax(ThenBranchInlined(), inner, Batches(), "x");
        foreach (string tensor in inner)
        {
            Assert.Equal(plain[tensor].Min, calibrated.Observers[tensor].Min, 5);
            Assert.Equal(plain[tensor].Max, calibrated.Observers[tensor].Max, 5);
        }

        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni);

        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "then_conv");
        Assert.Contains(new UnquantizedNode("else_conv", "Conv", Branches.NotReached), result.UnquantizedNodes);
        Assert.Contains(new UnquantizedNode("outer_else_fc", "MatMul", Branches.NotReached), result.UnquantizedNodes);
        Graph innerThen = Branch(Branch(result.Model.Graph, "then_branch"), "then_branch");
        Assert.Contains(innerThen.Nodes, n => n.OpType == "QuantizeLinear");
        DenseTensor x = Input(8);
        Assert.True(OrtHarness.Cosine(Run(model, x, taken: true), Run(result.Model, x, taken: true)) > 0.995);
    }

    [Fact]
    public void Inspect_gives_the_layers_inside_a_branch_the_verdicts_the_encoder_plans()
    {
        OnnxModel model = OneIf();
        string path = Path.Combine(Path.GetTempPath(), $"branch-{Guid.NewGuid():N}.onnx");
        OnnxModelSaver.Save(model, path);
        try
        {
            var report = QuantBuild.Engine.Inspection.ModelInspector.Inspect(model, path);
            Assert.Null(report.Quantizable.Single(q => q.Name == "then_conv").Fp32Reason);
            Assert.Null(report.Quantizable.Single(q => q.Name == "else_fc").Fp32Reason);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Graph Branch(Graph graph, string attribute) =>
        graph.Nodes.Single(n => n.OpType == "If").FindAttribute(attribute)!.Graph!;

    private static Dictionary<string, TensorRange> Ranges(CalibrationResult calibrated) =>
        calibrated.Observers.Where(o => o.Value.Count > 0).ToDictionary(o => o.Key, o => new TensorRange(o.Value.Min, o.Value.Max), StringComparer.Ordinal);

    private static CalibrationResult Calibrate(OnnxModel model, IReadOnlyList<string> tensors, bool taken)
    {
        DenseTensor all = Concat(Batches().ToList());
        using IDataSource data = ConstantInputSource.Wrap(new InMemoryDataSource("x", [("x", all)]), model,
            [new InputBindingConfig("c", taken ? 1 : 0, Array.Empty<long>(), new SourceLocation("test.yaml", 1, 1))]);
        return Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = 4, BatchSizeFromBudget = false, Bins = 0 });
    }

    private static IEnumerable<DenseTensor> Batches() => Enumerable.Range(1, 3).Select(Input);

    private static DenseTensor Input(int seed) => DenseTensor.FromFloats(TestGraphs.Normal(seed, 4 * 3 * 8 * 8, 1f), 4, 3, 8, 8);

    private static DenseTensor Concat(List<DenseTensor> parts)
    {
        var values = parts.SelectMany(p => p.AsSpan<float>().ToArray()).ToArray();
        return DenseTensor.FromFloats(values, 4 * parts.Count, 3, 8, 8);
    }

    private static float[] Run(OnnxModel model, DenseTensor x, bool taken)
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model));
        var inputs = new Dictionary<string, DenseTensor>
        {
            ["x"] = x,
            ["c"] = new DenseTensor(ElementType.Bool, Array.Empty<long>(), new[] { (byte)(taken ? 1 : 0) }),
        };
        return session.Run(inputs, new[] { "y" })["y"].AsSpan<float>().ToArray();
    }

    // Conv(x) → Relu → Flatten → MatMul into `output`, nodes named prefix_conv / prefix_fc; weights where the caller says.
    private static void Layers(Graph g, string prefix, string output, Graph convWeightIn, Graph fcWeightIn, bool fcAsConstantNode, int seed)
    {
        convWeightIn.AddWeight(prefix + ".conv.weight", seed, 0.3f, 4, 3, 3, 3);
        g.AddNode("Conv", prefix + "_conv", ["x", prefix + ".conv.weight"], [prefix + "_conv_out"],
            NodeAttribute.FromInts("pads", 1, 1, 1, 1), NodeAttribute.FromInts("kernel_shape", 3, 3));
        g.AddNode("Relu", prefix + "_relu", [prefix + "_conv_out"], [prefix + "_relu_out"]);
        g.AddNode("Flatten", prefix + "_flatten", [prefix + "_relu_out"], [prefix + "_flat"]);
        string fcWeight = prefix + ".fc.weight";
        if (fcAsConstantNode)
        {
            var w = TensorValue.FromFloats(fcWeight, TestGraphs.Normal(seed + 1, 256 * 10, 0.1f), 256, 10);
            g.AddNode("Constant", prefix + "_fc_weight", [], [fcWeight], NodeAttribute.FromTensor("value", w));
        }
        else
        {
            fcWeightIn.AddWeight(fcWeight, seed + 1, 0.1f, 256, 10);
        }

        g.AddNode("MatMul", prefix + "_fc", [prefix + "_flat", fcWeight], [output]);
    }

    private static (OnnxModel Model, Graph Main) Shell()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Name = "branched";
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 3, 8, 8));
        g.Inputs.Add(TestGraphs.Value("c", ElementType.Bool));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "n", 10));
        return (model, g);
    }

    // If(c): then → layers "then" (conv weight an outer initializer, fc weight a Constant node in the branch);
    // else → layers "else" (both weights the branch's own initializers).
    private static OnnxModel OneIf()
    {
        (OnnxModel model, Graph g) = Shell();
        var then = new Graph { Name = "then" };
        Layers(then, "then", "then_out", g, then, fcAsConstantNode: true, seed: 11);
        then.Outputs.Add(TestGraphs.Value("then_out", ElementType.Float, "n", 10));
        var otherwise = new Graph { Name = "else" };
        Layers(otherwise, "else", "else_out", otherwise, otherwise, fcAsConstantNode: false, seed: 21);
        otherwise.Outputs.Add(TestGraphs.Value("else_out", ElementType.Float, "n", 10));
        g.AddNode("If", "branch", ["c"], ["y"], NodeAttribute.FromGraph("then_branch", then), NodeAttribute.FromGraph("else_branch", otherwise));
        return model;
    }

    // If(c): then → If(c) again, whose then holds the "then" layers and else the "else" ones; outer else → its own MatMul.
    private static OnnxModel NestedIf()
    {
        (OnnxModel model, Graph g) = Shell();
        var innerThen = new Graph { Name = "inner_then" };
        Layers(innerThen, "then", "then_out", g, innerThen, fcAsConstantNode: true, seed: 11);
        innerThen.Outputs.Add(TestGraphs.Value("then_out", ElementType.Float, "n", 10));
        var innerElse = new Graph { Name = "inner_else" };
        Layers(innerElse, "else", "else_out", innerElse, innerElse, fcAsConstantNode: false, seed: 21);
        innerElse.Outputs.Add(TestGraphs.Value("else_out", ElementType.Float, "n", 10));
        var outerThen = new Graph { Name = "outer_then" };
        outerThen.AddNode("If", "inner", ["c"], ["inner_out"], NodeAttribute.FromGraph("then_branch", innerThen), NodeAttribute.FromGraph("else_branch", innerElse));
        outerThen.Outputs.Add(TestGraphs.Value("inner_out", ElementType.Float, "n", 10));
        var outerElse = new Graph { Name = "outer_else" };
        outerElse.AddNode("Flatten", "outer_else_flatten", ["x"], ["outer_else_flat"]);
        outerElse.AddWeight("outer_else.fc.weight", 31, 0.1f, 192, 10);
        outerElse.AddNode("MatMul", "outer_else_fc", ["outer_else_flat", "outer_else.fc.weight"], ["outer_else_out"]);
        outerElse.Outputs.Add(TestGraphs.Value("outer_else_out", ElementType.Float, "n", 10));
        g.AddNode("If", "outer", ["c"], ["y"], NodeAttribute.FromGraph("then_branch", outerThen), NodeAttribute.FromGraph("else_branch", outerElse));
        return model;
    }

    // The "then" layers as a plain main graph with the same tensor names: what calibration must agree with.
    private static OnnxModel ThenBranchInlined()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 3, 8, 8));
        Layers(g, "then", "then_out", g, g, fcAsConstantNode: true, seed: 11);
        g.Outputs.Add(TestGraphs.Value("then_out", ElementType.Float, "n", 10));
        return model;
    }
}

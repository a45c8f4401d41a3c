using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>Every node the encoder leaves in fp32 stays exactly fp32 and appears in the report with its reason.</summary>
public sealed class QdqEncoderExclusionTests
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Node_excluded_by_name_stays_fp32_and_is_listed_with_the_reason()
    {
        var options = Vnni with { ExcludedNodeNames = new HashSet<string> { "conv2" } };

        EncodeResult result = QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), options);

        Graph g = result.Model.Graph;
        Node conv2 = g.Nodes.Single(n => n.Name == "conv2");
        Assert.Equal("conv2.weight", conv2.Inputs[1]);
        Assert.Equal("conv2.bias", conv2.Inputs[2]);
        Assert.Equal(ElementType.Float, g.Initializer("conv2.weight").ElementType);
        Assert.Contains(new UnquantizedNode("conv2", "Conv", "excluded by node name in quantize.yaml"), result.UnquantizedNodes);
        Assert.DoesNotContain(result.QuantizedLayers, l => l.NodeName == "conv2");
        // relu2 and flatten still sit between quantized layers (fc), so they keep their Q/DQ.
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "fc");
    }

    [Fact]
    public void Op_type_excluded_in_the_yaml_stays_fp32_everywhere()
    {
        var options = Vnni with { ExcludedOpTypes = new HashSet<string> { "Gemm" } };

        EncodeResult result = QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), options);

        Node fc = result.Model.Graph.Single("Gemm");
        Assert.Equal("fc.weight", fc.Inputs[1]);
        Assert.Contains(new UnquantizedNode("fc", "Gemm", "excluded by op type in quantize.yaml"), result.UnquantizedNodes);
    }

    [Fact]
    public void Ops_without_integer_kernels_on_the_profile_and_isolated_ops_are_listed()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        model.Graph.Outputs.Clear();
        model.Graph.Outputs.Add(TestGraphs.Value("probabilities"));
        model.Graph.AddNode("HardSwish", "hardswish", new[] { "logits" }, new[] { "probabilities" });
        var ranges = TestGraphs.SmallConvNetRanges();

        EncodeResult result = QdqEncoder.Encode(model, ranges, Vnni);

        UnquantizedNode node = Assert.Single(result.UnquantizedNodes);
        Assert.Equal("hardswish", node.NodeName);
        Assert.StartsWith("HardSwish: no integer kernel in ONNX Runtime's CPU provider", node.Reason);
    }

    [Fact]
    public void A_lone_matmul_of_two_activations_stays_fp32_because_nothing_integer_is_next_to_it()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Inputs.Add(TestGraphs.Value("b", ElementType.Float, 6, 4));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        g.AddNode("MatMul", "mm", new[] { "a", "b" }, new[] { "y" });

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1, 1), ["b"] = new(-1, 1) }, Vnni);

        UnquantizedNode node = Assert.Single(result.UnquantizedNodes);
        Assert.Equal("not next to a quantized layer: Q/DQ here would only add work", node.Reason);
        Assert.Empty(result.QuantizedLayers);
        Assert.DoesNotContain(result.Model.Graph.Nodes, n => n.OpType is "QuantizeLinear" or "DequantizeLinear");
        Assert.Equal(17, result.Model.OpsetVersion());
    }

    [Fact]
    public void Weight_decoded_from_initializers_is_reported_as_folded_at_load_not_as_missing_kernels()
    {
        // what a plugin writes for packed low-bit weights: W = Cast(codes) * scale, then a MatMul reading W
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        g.AddDecodedWeight("w");
        g.AddNode("MatMul", "mm", new[] { "a", "w" }, new[] { "y" });

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1, 1), ["y"] = new(-1, 1) }, Vnni);

        const string folded = "computes a constant from initializers only: ONNX Runtime folds it once at load";
        Assert.Contains(new UnquantizedNode("decode_cast", "Cast", folded), result.UnquantizedNodes);
        Assert.Contains(new UnquantizedNode("decode_mul", "Mul", folded), result.UnquantizedNodes);
        UnquantizedNode mm = Assert.Single(result.UnquantizedNodes, n => n.NodeName == "mm");
        Assert.StartsWith("weight 'w' is computed from initializers (decoded at load", mm.Reason);
        Assert.DoesNotContain(result.Model.Graph.Nodes, n => n.OpType is "QuantizeLinear" or "DequantizeLinear");
    }

    [Fact]
    public void A_node_fed_by_a_graph_input_is_not_taken_for_a_constant()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 6));
        g.Initializers.Add(TensorValue.FromFloats("scale", [0.5f], [1]));
        g.AddNode("Mul", "scale_input", new[] { "a", "scale" }, new[] { "y" });

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1, 1), ["y"] = new(-1, 1) }, Vnni);

        UnquantizedNode node = Assert.Single(result.UnquantizedNodes);
        Assert.DoesNotContain("constant", node.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_calibrated_range_is_reported_instead_of_guessed()
    {
        // c2's Relu folds into conv2, but without r2's range there is nothing to fold: conv2 needs c2's own.
        var ranges = TestGraphs.SmallConvNetRanges();
        ranges.Remove("c2");
        ranges.Remove("r2");

        EncodeResult result = QdqEncoder.Encode(TestGraphs.SmallConvNet(), ranges, Vnni);

        Assert.Contains(new UnquantizedNode("conv2", "Conv", "no calibrated range for output 'c2'"), result.UnquantizedNodes);
    }

    [Fact]
    public void Gemm_with_alpha_other_than_one_is_an_unsupported_attribute()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        g.AddWeight("w", 1, 1f, 4, 6);
        g.AddNode("Gemm", "gemm", new[] { "a", "w" }, new[] { "y" }, NodeAttribute.FromInt("transB", 1), NodeAttribute.FromFloat("alpha", 0.5f));

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1, 1) }, Vnni);

        Assert.StartsWith("unsupported attribute: alpha = 0.5", Assert.Single(result.UnquantizedNodes).Reason);
    }

    [Fact]
    public void Initializer_that_is_also_a_graph_input_is_not_treated_as_a_constant_weight()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Inputs.Add(TestGraphs.Value("w", ElementType.Float, 6, 4));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        g.AddWeight("w", 1, 1f, 6, 4);
        g.AddNode("MatMul", "mm", new[] { "a", "w" }, new[] { "y" });

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1, 1) }, Vnni);

        Assert.Contains("also a graph input", Assert.Single(result.UnquantizedNodes).Reason);
    }
}

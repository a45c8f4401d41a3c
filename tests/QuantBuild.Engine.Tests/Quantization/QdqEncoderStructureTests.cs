using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Quantization;

public sealed class QdqEncoderStructureTests
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Plan_asks_for_every_quantized_activation_except_shape_only_outputs_graph_outputs_and_outputs_a_relu_folds_into()
    {
        IReadOnlyList<string> plan = QdqEncoder.Plan(TestGraphs.SmallConvNet(), Vnni);

        Assert.Equal(new[] { "x", "r1", "r2" }, plan);
    }

    [Theory]
    [InlineData("cpu-x64-vnni")]
    [InlineData("cpu-arm64")]
    public void Ranges_of_the_plan_alone_give_the_same_bytes_as_ranges_that_also_hold_the_folded_conv_outputs(string device)
    {
        EncodeOptions options = new() { Profile = DeviceProfiles.Find(device)! };
        OnnxModel model = TestGraphs.SmallConvNet();
        Dictionary<string, TensorRange> all = TestGraphs.SmallConvNetRanges();
        var planned = QdqEncoder.Plan(model, options).ToDictionary(t => t, t => all[t], StringComparer.Ordinal);
        Assert.DoesNotContain("c1", planned.Keys);

        EncodeResult fromPlan = QdqEncoder.Encode(model, planned, options);

        Assert.Equal(OnnxModelSaver.SaveToBytes(QdqEncoder.Encode(model, all, options).Model), OnnxModelSaver.SaveToBytes(fromPlan.Model));
        Assert.Empty(fromPlan.UnquantizedNodes);
    }

    [Fact]
    public void A_conv_output_whose_relu_stays_fp32_is_planned_and_without_its_range_the_conv_stays_fp32_too()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        EncodeOptions options = Vnni with { ExcludedNodeNames = new HashSet<string> { "relu1" } };
        Dictionary<string, TensorRange> ranges = TestGraphs.SmallConvNetRanges();
        ranges.Remove("c1");

        IReadOnlyList<string> plan = QdqEncoder.Plan(model, options);
        EncodeResult result = QdqEncoder.Encode(model, ranges, options);

        Assert.Contains("c1", plan);
        Assert.DoesNotContain("c2", plan);
        Assert.Contains(new UnquantizedNode("conv1", "Conv", "no calibrated range for output 'c1'"), result.UnquantizedNodes);
        Assert.DoesNotContain(result.UnquantizedNodes, n => n.NodeName == "conv2");
    }

    [Fact]
    public void Conv_weights_become_int8_per_output_channel_with_scale_max_abs_over_127()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        float[] w = fp32.Graph.Initializer("conv1.weight").Floats();

        Graph g = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), Vnni).Model.Graph;

        Node dq = g.DequantizeFeeding(g.Nodes.Single(n => n.Name == "conv1"), 1);
        Assert.Equal(0, dq.FindAttribute("axis")!.Int);
        TensorValue codes = g.Initializer(dq.Inputs[0]);
        Assert.Equal(ElementType.Int8, codes.ElementType);
        Assert.Equal(new long[] { 8, 3, 3, 3 }, codes.Dims);
        float[] scales = g.Initializer(dq.Inputs[1]).Floats();
        Assert.Equal(new long[] { 8 }, g.Initializer(dq.Inputs[1]).Dims);
        Assert.All(g.Initializer(dq.Inputs[2]).Int8s(), z => Assert.Equal(0, z));
        sbyte[] q = codes.Int8s();
        for (int c = 0; c < 8; c++)
        {
            float maxAbs = w.Skip(c * 27).Take(27).Max(MathF.Abs);
            Assert.Equal(maxAbs / 127f, scales[c]);
            for (int k = 0; k < 27; k++)
            {
                float expected = Math.Clamp(MathF.Round(w[c * 27 + k] / scales[c], MidpointRounding.ToEven), -127, 127);
                Assert.Equal(expected, q[c * 27 + k]);
            }
        }
    }

    [Fact]
    public void Conv_bias_becomes_int32_with_scale_input_scale_times_weight_scale_and_zero_point_0()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        float[] bias = fp32.Graph.Initializer("conv1.bias").Floats();

        Graph g = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), Vnni).Model.Graph;

        Node conv = g.Nodes.Single(n => n.Name == "conv1");
        float inputScale = g.Initializer(g.DequantizeFeeding(conv, 0).Inputs[1]).Floats().Single();
        float[] weightScales = g.Initializer(g.DequantizeFeeding(conv, 1).Inputs[1]).Floats();
        Node biasDq = g.DequantizeFeeding(conv, 2);
        TensorValue values = g.Initializer(biasDq.Inputs[0]);
        Assert.Equal(ElementType.Int32, values.ElementType);
        Assert.Equal(0, biasDq.FindAttribute("axis")!.Int);
        float[] biasScales = g.Initializer(biasDq.Inputs[1]).Floats();
        Assert.All(g.Initializer(biasDq.Inputs[2]).Int32s(), z => Assert.Equal(0, z));
        int[] q = values.Int32s();
        for (int c = 0; c < 8; c++)
        {
            Assert.Equal(inputScale * weightScales[c], biasScales[c]);
            Assert.Equal((int)Math.Round(bias[c] / (double)biasScales[c], MidpointRounding.ToEven), q[c]);
        }
    }

    [Fact]
    public void Activations_are_uint8_asymmetric_on_x64_vnni_with_the_range_widened_to_include_zero()
    {
        var ranges = TestGraphs.SmallConvNetRanges();
        ranges["x"] = new TensorRange(0.5f, 3f);

        Graph g = QdqEncoder.Encode(TestGraphs.SmallConvNet(), ranges, Vnni).Model.Graph;

        Node q = g.ProducerOf("x_quantized");
        Assert.Equal("QuantizeLinear", q.OpType);
        Assert.Equal(3f / 255f, g.Initializer(q.Inputs[1]).Floats().Single());
        TensorValue zeroPoint = g.Initializer(q.Inputs[2]);
        Assert.Equal(ElementType.UInt8, zeroPoint.ElementType);
        Assert.Equal(0, zeroPoint.Data.Span[0]);

        Node q2 = g.ProducerOf("c2_quantized");
        Assert.Equal(7f / 255f, g.Initializer(q2.Inputs[1]).Floats().Single());
    }

    [Fact]
    public void Asymmetric_zero_point_is_round_of_minus_min_over_scale()
    {
        Graph g = QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), Vnni).Model.Graph;

        Node q = g.ProducerOf("x_quantized");
        float scale = 6f / 255f;
        Assert.Equal(scale, g.Initializer(q.Inputs[1]).Floats().Single());
        Assert.Equal((byte)MathF.Round(3f / scale, MidpointRounding.ToEven), g.Initializer(q.Inputs[2]).Data.Span[0]);
    }

    [Fact]
    public void Activations_are_int8_symmetric_on_arm64()
    {
        Graph g = QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), new EncodeOptions { Profile = DeviceProfiles.CpuArm64 }).Model.Graph;

        Node q = g.ProducerOf("x_quantized");
        Assert.Equal(3f / 127f, g.Initializer(q.Inputs[1]).Floats().Single());
        TensorValue zeroPoint = g.Initializer(q.Inputs[2]);
        Assert.Equal(ElementType.Int8, zeroPoint.ElementType);
        Assert.Equal(0, zeroPoint.Data.Span[0]);
    }

    [Fact]
    public void Reduce_range_profile_quantizes_weights_to_seven_bits()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        float[] w = fp32.Graph.Initializer("conv1.weight").Floats();

        Graph g = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), new EncodeOptions { Profile = DeviceProfiles.CpuX64Avx2 }).Model.Graph;

        Node dq = g.DequantizeFeeding(g.Nodes.Single(n => n.Name == "conv1"), 1);
        Assert.Equal(w.Take(27).Max(MathF.Abs) / 63f, g.Initializer(dq.Inputs[1]).Floats()[0]);
        Assert.Equal(63, g.Initializer(dq.Inputs[0]).Int8s().Max(v => Math.Abs((int)v)));
    }

    [Fact]
    public void Relu_after_a_conv_gives_the_conv_output_its_encoding_and_shape_only_ops_reuse_their_input_encoding()
    {
        var ranges = TestGraphs.SmallConvNetRanges();
        ranges["f"] = new TensorRange(0f, 100f);

        Graph g = QdqEncoder.Encode(TestGraphs.SmallConvNet(), ranges, Vnni).Model.Graph;

        (float Scale, byte Zero) Encoding(string tensor)
        {
            Node q = g.ProducerOf(tensor + "_quantized");
            return (g.Initializer(q.Inputs[1]).Floats().Single(), g.Initializer(q.Inputs[2]).Data.Span[0]);
        }

        Assert.Equal((5f / 255f, (byte)0), Encoding("r1"));
        Assert.Equal(Encoding("r1"), Encoding("c1"));
        Assert.Equal(Encoding("r1"), Encoding("p1"));
        Assert.Equal(Encoding("r2"), Encoding("c2"));
        Assert.Equal(Encoding("r2"), Encoding("f"));
    }

    [Fact]
    public void Every_quantized_op_reads_dequantized_inputs_and_the_last_gemm_writes_the_fp32_graph_output()
    {
        EncodeResult result = QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), Vnni);
        Graph g = result.Model.Graph;

        foreach (Node node in g.Nodes.Where(n => n.OpType is "Conv" or "Relu" or "MaxPool" or "Flatten" or "Gemm"))
        {
            Assert.Equal("DequantizeLinear", g.ProducerOf(node.Inputs[0]).OpType);
            Assert.All(g.Nodes.Where(n => n.Inputs.Contains(node.Outputs[0])), consumer => Assert.True(
                consumer.OpType == "QuantizeLinear" || node.OpType == "Gemm", $"{node.Name} feeds {consumer.OpType}"));
        }

        Assert.Equal("fc", g.ProducerOf("logits").Name);
        Assert.Equal(new[] { "x" }, g.Inputs.Select(i => i.Name));
        Assert.Equal(ElementType.Float, g.Inputs[0].TensorType!.ElementType);
        Assert.Equal(new[] { "logits" }, g.Outputs.Select(i => i.Name));
        Assert.Equal(ElementType.Float, g.Outputs[0].TensorType!.ElementType);
        Assert.DoesNotContain(g.Initializers, t => t.ElementType == ElementType.Float && t.Dims.Length > 1);
        Assert.Equal(new[] { "conv1", "relu1", "pool1", "conv2", "relu2", "flatten", "fc" }, result.QuantizedLayers.Select(l => l.NodeName));
        Assert.Equal(new QuantizedLayer("conv1", "Conv", "c1", "c1_dequantized", "conv1.weight", 0), result.QuantizedLayers[0]);
        Assert.Equal(new QuantizedLayer("fc", "Gemm", "logits", "logits", "fc.weight", 0), result.QuantizedLayers[^1]);
        Assert.Empty(result.UnquantizedNodes);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(0, 1)]
    public void Gemm_weight_scales_follow_the_output_axis_given_by_transB(int transB, int expectedAxis)
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        float[] w = transB == 1 ? g.AddWeight("w", 7, 1f, 4, 6) : g.AddWeight("w", 7, 1f, 6, 4);
        g.AddNode("Gemm", "gemm", new[] { "a", "w" }, new[] { "y" }, NodeAttribute.FromInt("transB", transB));

        Graph q = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1f, 1f) }, Vnni).Model.Graph;

        Node dq = q.DequantizeFeeding(q.Single("Gemm"), 1);
        Assert.Equal(expectedAxis, dq.FindAttribute("axis")!.Int);
        float[] scales = q.Initializer(dq.Inputs[1]).Floats();
        for (int n = 0; n < 4; n++)
        {
            float maxAbs = Enumerable.Range(0, 6).Max(k => MathF.Abs(transB == 1 ? w[n * 6 + k] : w[k * 4 + n]));
            Assert.Equal(maxAbs / 127f, scales[n]);
        }
    }

    [Fact]
    public void MatMul_weight_scales_are_per_column_of_the_K_by_N_weight()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        float[] w = g.AddWeight("w", 8, 1f, 6, 4);
        g.AddNode("MatMul", "mm", new[] { "a", "w" }, new[] { "y" });

        Graph q = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1f, 1f) }, Vnni).Model.Graph;

        Node dq = q.DequantizeFeeding(q.Single("MatMul"), 1);
        Assert.Equal(1, dq.FindAttribute("axis")!.Int);
        float[] scales = q.Initializer(dq.Inputs[1]).Floats();
        Assert.Equal(Enumerable.Range(0, 4).Select(n => Enumerable.Range(0, 6).Max(k => MathF.Abs(w[k * 4 + n])) / 127f), scales);
    }

    [Fact]
    public void Weights_held_by_Constant_nodes_are_quantized_and_the_Constant_node_removed()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        float[] w = TestGraphs.Normal(9, 24, 1f);
        g.AddNode("Constant", "w_const", Array.Empty<string>(), new[] { "w" }, NodeAttribute.FromTensor("value", TensorValue.FromFloats("", w, 6, 4)));
        g.AddNode("MatMul", "mm", new[] { "a", "w" }, new[] { "y" });

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange> { ["a"] = new(-1f, 1f) }, Vnni);

        Graph q = result.Model.Graph;
        Assert.DoesNotContain(q.Nodes, n => n.OpType == "Constant");
        Assert.Equal(ElementType.Int8, q.Initializer(q.DequantizeFeeding(q.Single("MatMul"), 1).Inputs[0]).ElementType);
        Assert.Empty(result.UnquantizedNodes);
    }

    [Fact]
    public void Weight_overrides_are_used_verbatim()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        int[] codes = Enumerable.Range(0, 8 * 27).Select(i => i % 15 - 7).ToArray();
        float[] scales = Enumerable.Range(1, 8).Select(i => i * 0.01f).ToArray();
        var options = Vnni with
        {
            WeightOverrides = new Dictionary<string, WeightEncoding>
            {
                ["conv1.weight"] = new() { Bits = 4, Type = ElementType.Int8, Axis = 0, Scales = scales, Codes = codes, Origin = "test" },
            },
        };

        Graph g = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), options).Model.Graph;

        Node dq = g.DequantizeFeeding(g.Nodes.Single(n => n.Name == "conv1"), 1);
        Assert.Equal(codes, g.Initializer(dq.Inputs[0]).Int8s().Select(v => (int)v));
        Assert.Equal(scales, g.Initializer(dq.Inputs[1]).Floats());
    }

    /// <summary>A pass's encoding of a weight whose layer the user excluded is reported unused, with the layer's reason; a used one is not.</summary>
    [Fact]
    public void A_weight_encoding_whose_layer_stays_fp32_is_reported_unused()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        int[] codes = Enumerable.Range(0, 8 * 27).Select(i => i % 15 - 7).ToArray();
        float[] scales = Enumerable.Range(1, 8).Select(i => i * 0.01f).ToArray();
        var encodings = new Dictionary<string, WeightEncoding>
        {
            ["conv1.weight"] = new() { Bits = 4, Type = ElementType.Int8, Axis = 0, Scales = scales, Codes = codes, Origin = "adaround" },
        };

        EncodeResult used = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), Vnni with { WeightOverrides = encodings });
        EncodeResult excluded = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(),
            Vnni with { WeightOverrides = encodings, ExcludedNodeNames = new HashSet<string> { "conv1" } });

        Assert.Empty(used.UnusedWeightEncodings);
        UnusedWeightEncoding unused = Assert.Single(excluded.UnusedWeightEncodings);
        string reason = Assert.Single(excluded.UnquantizedNodes, n => n.NodeName == "conv1").Reason;
        Assert.Equal(new UnusedWeightEncoding("conv1.weight", "adaround", "conv1", reason), unused);
        Assert.DoesNotContain(excluded.Model.Graph.Nodes, n => n.OpType == "DequantizeLinear" && n.Outputs[0].Contains("conv1.weight", StringComparison.Ordinal));
    }

    [Fact]
    public void Weight_override_with_the_wrong_number_of_scales_is_QB3003()
    {
        var options = Vnni with
        {
            WeightOverrides = new Dictionary<string, WeightEncoding>
            {
                ["conv1.weight"] = new() { Bits = 8, Type = ElementType.Int8, Axis = 0, Scales = new[] { 1f, 2f }, Origin = "test" },
            },
        };

        var e = Assert.Throws<QuantBuildException>(() => QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), options));
        Assert.Equal("QB3003", e.Code);
    }

    [Fact]
    public void Constant_zero_activation_gets_scale_one_instead_of_dividing_by_zero()
    {
        var ranges = TestGraphs.SmallConvNetRanges();
        ranges["x"] = new TensorRange(0f, 0f);

        Graph g = QdqEncoder.Encode(TestGraphs.SmallConvNet(), ranges, Vnni).Model.Graph;

        Node q = g.ProducerOf("x_quantized");
        Assert.Equal(1f, g.Initializer(q.Inputs[1]).Floats().Single());
        Assert.All(g.Initializer(g.DequantizeFeeding(g.Nodes.Single(n => n.Name == "conv1"), 2).Inputs[1]).Floats(), s => Assert.True(float.IsFinite(s) && s > 0));
    }

    [Fact]
    public void Non_finite_range_is_QB3005()
    {
        var ranges = TestGraphs.SmallConvNetRanges();
        ranges["c2"] = new TensorRange(float.NegativeInfinity, 1f);

        var e = Assert.Throws<QuantBuildException>(() => QdqEncoder.Encode(TestGraphs.SmallConvNet(), ranges, Vnni));
        Assert.Equal("QB3005", e.Code);
    }

    [Fact]
    public void Opset_17_model_stays_17_and_opset_11_model_is_raised_to_13()
    {
        Assert.Equal(17, QdqEncoder.Encode(TestGraphs.SmallConvNet(17), TestGraphs.SmallConvNetRanges(), Vnni).Model.OpsetVersion());
        Assert.Equal(13, QdqEncoder.Encode(TestGraphs.SmallConvNet(11), TestGraphs.SmallConvNetRanges(), Vnni).Model.OpsetVersion());
    }

    [Fact]
    public void Raising_the_opset_over_an_op_that_changes_meaning_converts_it()
    {
        OnnxModel model = TestGraphs.SmallConvNet(11);
        model.Graph.Outputs.Add(TestGraphs.Value("probabilities"));
        model.Graph.AddNode("Softmax", "softmax", new[] { "logits" }, new[] { "probabilities" });

        OnnxModel encoded = QdqEncoder.Encode(model, TestGraphs.SmallConvNetRanges(), Vnni).Model;

        // Softmax-11 on the last axis of the declared [batch, 10] logits means Softmax-13 on axis -1.
        Assert.Equal(13, encoded.OpsetVersion());
        Assert.Equal(-1, encoded.Graph.Single("Softmax").FindAttribute("axis")!.Int);
    }

    [Fact]
    public void Already_quantized_model_is_QB3001()
    {
        EncodeResult once = QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), Vnni);

        var e = Assert.Throws<QuantBuildException>(() => QdqEncoder.Encode(once.Model, TestGraphs.SmallConvNetRanges(), Vnni));
        Assert.Equal("QB3001", e.Code);
    }

    [Fact]
    public void The_input_model_is_not_changed()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        byte[] before = OnnxModelSaver.SaveToBytes(fp32);

        QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), Vnni);

        Assert.Equal(before, OnnxModelSaver.SaveToBytes(fp32));
    }

    [Fact]
    public void Encoding_twice_gives_byte_identical_models()
    {
        byte[] first = OnnxModelSaver.SaveToBytes(QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), Vnni).Model);
        byte[] second = OnnxModelSaver.SaveToBytes(QdqEncoder.Encode(TestGraphs.SmallConvNet(), TestGraphs.SmallConvNetRanges(), Vnni).Model);

        Assert.Equal(first, second);
    }
}

using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Rewrites;
using static QuantBuild.Engine.Tests.Rewrites.RewriteHarness;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>
/// Each op family whose meaning changes between its old opset and 13 (or 18/21), built at the old opset, run by ONNX
/// Runtime before and after the upgrade on random data: the outputs must agree within 1e-6.
/// </summary>
public class OpsetUpgradeRewriteTests
{
    private static OnnxModel Upgrade(OnnxModel model, long to = 13)
    {
        long from = model.OpsetVersion()!.Value;
        RewriteResult result = new OpsetUpgradeRewrite(to).Apply(model);
        Assert.Equal($"opset {from} → {to}", result.Detail);
        Assert.Equal(to, model.OpsetVersion());
        return model;
    }

    private static OnnxModel Unary(long opset, string op, long[] inDims, params NodeAttribute[] attributes)
    {
        OnnxModel m = Model(opset);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, inDims));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Add(op, op.ToLowerInvariant(), ["x"], ["y"], attributes);
        return m;
    }

    [Theory]
    [InlineData("nearest")]
    [InlineData("linear")]
    public void Upsample_7_with_scales_attribute_becomes_an_equivalent_Resize(string mode)
    {
        OnnxModel m = Unary(7, "Upsample", [1, 2, 3, 4], NodeAttribute.FromString("mode", mode), NodeAttribute.FromFloats("scales", 1f, 1f, 2f, 3f));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(1, 1, 2, 3, 4)));

        Assert.Equal(["Resize"], OpTypes(up.Graph));
    }

    [Theory]
    [InlineData(9, "Upsample", "nearest")]
    [InlineData(9, "Upsample", "linear")]
    [InlineData(10, "Resize", "nearest")]
    [InlineData(10, "Resize", "linear")]
    public void Upsample_9_and_Resize_10_with_scales_from_a_Constant_node_keep_their_meaning(long opset, string op, string mode)
    {
        OnnxModel m = Model(opset);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 1, 2, 5, 3));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Add("Constant", "scales_const", [], ["scales"], NodeAttribute.FromTensor("value", TensorValue.FromFloats(string.Empty, [1f, 1f, 1.5f, 2.5f], 4)));
        m.Graph.Add(op, "up", ["x", "scales"], ["y"], NodeAttribute.FromString("mode", mode));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(2, 1, 2, 5, 3)));

        Assert.Equal(["Constant", "Resize"], OpTypes(up.Graph));
    }

    [Fact]
    public void Slice_9_attributes_become_inputs()
    {
        OnnxModel m = Unary(9, "Slice", [4, 6, 5], NodeAttribute.FromInts("starts", 1, -4), NodeAttribute.FromInts("ends", 3, long.MaxValue),
            NodeAttribute.FromInts("axes", 0, 2));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(3, 4, 6, 5)));

        Assert.Equal(4, up.Graph.Nodes.Single().Inputs.Count);
    }

    [Fact]
    public void TopK_9_k_becomes_an_input_and_indices_agree()
    {
        OnnxModel m = Model(9);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 3, 7));
        m.Graph.Outputs.Add(Untyped("values"));
        m.Graph.Outputs.Add(Untyped("indices", ElementType.Int64));
        m.Graph.Add("TopK", "topk", ["x"], ["values", "indices"], NodeAttribute.FromInt("k", 3), NodeAttribute.FromInt("axis", 1));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(4, 3, 7)));

        Assert.Equal(2, up.Graph.Nodes.Single().Inputs.Count);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Clip_6_bounds_become_inputs(bool min, bool max)
    {
        var attributes = new List<NodeAttribute>();
        if (min)
        {
            attributes.Add(NodeAttribute.FromFloat("min", -0.5f));
        }

        if (max)
        {
            attributes.Add(NodeAttribute.FromFloat("max", 0.75f));
        }

        OnnxModel m = Unary(9, "Clip", [2, 8], [.. attributes]);

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(5, 2, 8)));

        Assert.Empty(up.Graph.Nodes.Single().Attributes);
    }

    [Theory]
    [InlineData("constant", 1.5f)]
    [InlineData("reflect", 0f)]
    [InlineData("edge", 0f)]
    public void Pad_2_pads_and_value_become_inputs(string mode, float value)
    {
        OnnxModel m = Unary(9, "Pad", [1, 2, 4, 5], NodeAttribute.FromString("mode", mode), NodeAttribute.FromInts("pads", 0, 0, 1, 2, 0, 0, 2, 1),
            NodeAttribute.FromFloat("value", value));

        AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(6, 1, 2, 4, 5)));
    }

    [Fact]
    public void Scatter_9_becomes_ScatterElements()
    {
        OnnxModel m = Model(9);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 3, 4));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(GraphConstantsForTests.Int64s("indices", [1, 0, 2, 3, 2, 0], 2, 3));
        m.Graph.Initializers.Add(TensorValue.FromFloats("updates", [9f, 8f, 7f, 6f, 5f, 4f], 2, 3));
        m.Graph.Add("Scatter", "scatter", ["x", "indices", "updates"], ["y"], NodeAttribute.FromInt("axis", 1));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(7, 3, 4)));

        Assert.Equal(["ScatterElements"], OpTypes(up.Graph));
    }

    [Fact]
    public void Dropout_7_becomes_Identity()
    {
        OnnxModel m = Unary(9, "Dropout", [2, 5], NodeAttribute.FromFloat("ratio", 0.3f));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(8, 2, 5)));

        Assert.Equal(["Identity"], OpTypes(up.Graph));
    }

    [Fact]
    public void Dropout_7_whose_mask_is_read_is_QB3002_naming_the_node()
    {
        OnnxModel m = Model(9);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 5));
        m.Graph.Outputs.Add(Untyped("mask"));
        m.Graph.Add("Dropout", "drop", ["x"], ["y", "mask"]);

        var e = Assert.Throws<QuantBuildException>(() => new OpsetUpgradeRewrite().Apply(m));

        Assert.Equal("QB3002", e.Code);
        Assert.Contains("'drop' (Dropout)", e.Message);
        Assert.Contains("mask", e.Message);
    }

    [Fact]
    public void Squeeze_Unsqueeze_Split_and_ReduceSum_11_axes_and_split_become_inputs()
    {
        OnnxModel m = Model(11);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 1, 6));
        m.Graph.Outputs.Add(Untyped("a"));
        m.Graph.Outputs.Add(Untyped("b"));
        m.Graph.Outputs.Add(Untyped("s"));
        m.Graph.Add("Squeeze", "squeeze", ["x"], ["sq"], NodeAttribute.FromInts("axes", 1));
        m.Graph.Add("Split", "split", ["sq"], ["p0", "p1"], NodeAttribute.FromInt("axis", -1), NodeAttribute.FromInts("split", 2, 4));
        m.Graph.Add("Unsqueeze", "unsqueeze", ["p0"], ["a"], NodeAttribute.FromInts("axes", 0, -1));
        m.Graph.Add("Identity", "id", ["p1"], ["b"]);
        m.Graph.Add("ReduceSum", "sum", ["x"], ["s"], NodeAttribute.FromInts("axes", 0, 2), NodeAttribute.FromInt("keepdims", 0));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(9, 2, 1, 6)));

        Assert.All(up.Graph.Nodes.Where(n => n.OpType != "Identity"), n => Assert.Equal(2, n.Inputs.Count));
    }

    [Fact]
    public void Split_11_without_sizes_says_how_many_outputs_at_18()
    {
        OnnxModel m = Model(11);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 4, 6));
        m.Graph.Outputs.Add(Untyped("p0"));
        m.Graph.Outputs.Add(Untyped("p1"));
        m.Graph.Outputs.Add(Untyped("p2"));
        m.Graph.Add("Split", "split", ["x"], ["p0", "p1", "p2"], NodeAttribute.FromInt("axis", 1));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x, 18), Feed("x", Random(10, 4, 6)));

        Assert.Equal(3, up.Graph.Nodes.Single().FindAttribute("num_outputs")!.Int);
    }

    [Theory]
    [InlineData("Softmax", 1, new long[] { 2, 3, 4 })]
    [InlineData("LogSoftmax", 1, new long[] { 2, 3, 4 })]
    [InlineData("Hardmax", 1, new long[] { 2, 3, 4 })]
    [InlineData("Softmax", -2, new long[] { 2, 3, 4, 5 })]
    [InlineData("Softmax", 0, new long[] { 3, 4 })]
    public void Softmax_family_before_13_keeps_its_flatten_to_2D_meaning(string op, long axis, long[] dims)
    {
        OnnxModel m = Unary(11, op, dims, NodeAttribute.FromInt("axis", axis));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(11, dims)));

        Assert.Equal(["Shape", "Flatten", op, "Reshape"], OpTypes(up.Graph));
    }

    [Fact]
    public void Softmax_on_the_last_axis_of_a_known_rank_stays_one_node()
    {
        OnnxModel m = Unary(11, "Softmax", [5, 10]);

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(12, 5, 10)));

        Assert.Equal(-1, up.Graph.Nodes.Single().FindAttribute("axis")!.Int);
    }

    [Theory]
    [InlineData("ReduceMean")]
    [InlineData("ReduceMax")]
    [InlineData("ReduceL2")]
    [InlineData("ReduceLogSumExp")]
    public void Reduce_13_axes_become_an_input_at_18(string op)
    {
        OnnxModel m = Unary(13, op, [2, 3, 4], NodeAttribute.FromInts("axes", 1, -1), NodeAttribute.FromInt("keepdims", 1));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x, 18), Feed("x", Random(13, 2, 3, 4)));

        Assert.Equal(2, up.Graph.Nodes.Single().Inputs.Count);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(0L)]
    public void BatchNormalization_7_spatial_keeps_its_meaning(long spatial)
    {
        OnnxModel m = Model(7);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 3, 4, 5));
        m.Graph.Outputs.Add(Untyped("y"));
        long[] paramDims = spatial == 1 ? [3] : [3, 4, 5];
        int count = (int)paramDims.Aggregate(1L, (a, b) => a * b);
        m.Graph.Initializers.Add(TensorValue.FromDense("scale", Random(20, paramDims)));
        m.Graph.Initializers.Add(TensorValue.FromDense("bias", Random(21, paramDims)));
        m.Graph.Initializers.Add(TensorValue.FromDense("mean", Random(22, paramDims)));
        m.Graph.Initializers.Add(TensorValue.FromFloats("var", Enumerable.Range(0, count).Select(i => 0.5f + i % 7 * 0.25f).ToArray(), paramDims));
        m.Graph.Add("BatchNormalization", "bn", ["x", "scale", "bias", "mean", "var"], ["y"], NodeAttribute.FromInt("spatial", spatial),
            NodeAttribute.FromFloat("epsilon", 1e-3f));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x), Feed("x", Random(23, 2, 3, 4, 5)));

        Assert.DoesNotContain(up.Graph.Nodes, n => n.FindAttribute("spatial") is not null);
    }

    [Fact]
    public void Ops_inside_If_branches_are_converted_too()
    {
        OnnxModel m = Model(10);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 3, 4));
        m.Graph.Inputs.Add(Value("flag", ElementType.Bool));
        m.Graph.Outputs.Add(Untyped("y"));
        var then = new Graph { Name = "then" };
        then.Outputs.Add(Untyped("t"));
        then.Add("Softmax", "inner_softmax", ["x"], ["t"], NodeAttribute.FromInt("axis", 1));
        var otherwise = new Graph { Name = "else" };
        otherwise.Outputs.Add(Untyped("e"));
        otherwise.Add("Clip", "inner_clip", ["x"], ["e"], NodeAttribute.FromFloat("min", -0.25f), NodeAttribute.FromFloat("max", 0.5f));
        m.Graph.Add("If", "branch", ["flag"], ["y"], NodeAttribute.FromGraph("then_branch", then), NodeAttribute.FromGraph("else_branch", otherwise));
        DenseTensor x = Random(30, 2, 3, 4);

        foreach (bool flag in new[] { true, false })
        {
            var feed = Feed("x", x);
            feed["flag"] = DenseTensor.Create(ElementType.Bool, [flag], []);
            OnnxModel up = AssertSameOutputs(m, y => Upgrade(y), feed);
            Graph thenUp = up.Graph.Nodes.Single().FindAttribute("then_branch")!.Graph!;
            Assert.Contains("Flatten", OpTypes(thenUp));
        }

        Assert.Equal(10, m.OpsetVersion());
        Assert.Same(then, m.Graph.Nodes.Single().FindAttribute("then_branch")!.Graph);
        Assert.Single(then.Nodes);
    }

    [Fact]
    public void RoiAlign_10_keeps_its_output_half_pixel_coordinates_at_16()
    {
        OnnxModel m = Model(10);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 1, 2, 8, 8));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromFloats("rois", [0.5f, 1.25f, 6.5f, 5.75f, 2f, 0f, 7f, 7.5f], 2, 4));
        m.Graph.Initializers.Add(GraphConstantsForTests.Int64s("batch", [0, 0], 2));
        m.Graph.Add("RoiAlign", "roi", ["x", "rois", "batch"], ["y"], NodeAttribute.FromInt("output_height", 3), NodeAttribute.FromInt("output_width", 3),
            NodeAttribute.FromInt("sampling_ratio", 2));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x, 16), Feed("x", Random(40, 1, 2, 8, 8)));

        Assert.Equal("output_half_pixel", up.Graph.Nodes.Single().FindAttribute("coordinate_transformation_mode")!.StringValue);
    }

    [Theory]
    [InlineData("bilinear")]
    [InlineData("bicubic")]
    public void GridSample_16_modes_are_renamed_at_20(string mode)
    {
        OnnxModel m = Model(16, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 1, 2, 5, 6));
        m.Graph.Outputs.Add(Untyped("y"));
        var grid = Random(41, 1, 4, 3, 2);
        m.Graph.Initializers.Add(TensorValue.FromFloats("grid", grid.AsSpan<float>().ToArray().Select(v => v / 2.2f).ToArray(), 1, 4, 3, 2));
        m.Graph.Add("GridSample", "sample", ["x", "grid"], ["y"], NodeAttribute.FromString("mode", mode));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x, 20), Feed("x", Random(42, 1, 2, 5, 6)));

        Assert.Equal(mode == "bilinear" ? "linear" : "cubic", up.Graph.Nodes.Single().FindAttribute("mode")!.StringValue);
    }

    [Fact]
    public void DFT_17_axis_becomes_an_input_at_20()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 8, 3, 1));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Add("DFT", "dft", ["x"], ["y"], NodeAttribute.FromInt("axis", 1));

        OnnxModel up = AssertSameOutputs(m, x => Upgrade(x, 20), Feed("x", Random(43, 2, 8, 3, 1)));

        Assert.Equal(3, up.Graph.Nodes.Single().Inputs.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Add_6_legacy_broadcast_along_axis_1_adds_per_channel(bool constantB)
    {
        OnnxModel m = Model(6, 3);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 3, 2, 2));
        m.Graph.Inputs.Add(Value("b", ElementType.Float, 3));
        m.Graph.Outputs.Add(Untyped("y"));
        float[] b = [10f, 20f, 30f];
        if (constantB)
        {
            m.Graph.Initializers.Add(TensorValue.FromFloats("b", b, 3)); // IR 3: an initializer is listed as an input too
        }

        m.Graph.Add("Add", "add", ["x", "b"], ["y"], NodeAttribute.FromInt("broadcast", 1), NodeAttribute.FromInt("axis", 1));
        DenseTensor x = Random(50, 2, 3, 2, 2);

        new OpsetUpgradeRewrite().Apply(m);

        var feed = Feed("x", x);
        if (!constantB)
        {
            feed["b"] = DenseTensor.FromFloats(b, 3);
        }

        float[] y = Run(m, feed)["y"].AsSpan<float>().ToArray();
        float[] xs = x.AsSpan<float>().ToArray();
        Assert.Equal(Enumerable.Range(0, 24).Select(i => xs[i] + b[i / 4 % 3]), y);
    }

    [Fact]
    public void A_model_older_than_opset_6_is_QB3002()
    {
        OnnxModel m = Unary(5, "Relu", [2]);

        var e = Assert.Throws<QuantBuildException>(() => new OpsetUpgradeRewrite().Apply(m));

        Assert.Equal("QB3002", e.Code);
        Assert.Contains("opset 5", e.Message);
    }

    [Fact]
    public void A_model_already_at_the_target_is_left_alone()
    {
        OnnxModel m = Unary(17, "Softmax", [2, 3], NodeAttribute.FromInt("axis", 0));

        RewriteResult result = new OpsetUpgradeRewrite().Apply(m);

        Assert.False(result.ChangedModel);
        Assert.Equal(17, m.OpsetVersion());
        Assert.Equal(0, m.Graph.Nodes.Single().FindAttribute("axis")!.Int);
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Rewrites;
using QuantBuild.Engine.Tests.Quantization;
using static QuantBuild.Engine.Tests.Rewrites.RewriteHarness;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>Unread initializers and Constant nodes go, in the rewrite stage and in the encoder's output.</summary>
public class DeadCodeRewriteTests
{
    private static OnnxModel WithLeftovers()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 3));
        m.Graph.Inputs.Add(Value("flag", ElementType.Bool));
        m.Graph.Inputs.Add(Value("default_in", ElementType.Float, 3));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromFloats("used", [1f, 2f, 3f], 3));
        m.Graph.Initializers.Add(TensorValue.FromFloats("outer_read", [4f, 5f, 6f], 3));
        m.Graph.Initializers.Add(TensorValue.FromFloats("unused", [7f], 1));
        m.Graph.Initializers.Add(TensorValue.FromFloats("default_in", [0f, 0f, 0f], 3));
        m.Graph.Add("Constant", "unused_const", [], ["uc"], NodeAttribute.FromTensor("value", TensorValue.FromFloats(string.Empty, [8f], 1)));
        m.Graph.Add("Add", "add", ["x", "used"], ["a"]);
        var then = new Graph { Name = "then" };
        then.Outputs.Add(Untyped("t"));
        then.Initializers.Add(TensorValue.FromFloats("inner_unused", [9f], 1));
        then.Add("Add", "inner", ["a", "outer_read"], ["t"]);
        var otherwise = new Graph { Name = "else" };
        otherwise.Outputs.Add(Untyped("e"));
        otherwise.Add("Identity", "pass", ["a"], ["e"]);
        m.Graph.Add("If", "branch", ["flag"], ["y"], NodeAttribute.FromGraph("then_branch", then), NodeAttribute.FromGraph("else_branch", otherwise));
        return m;
    }

    [Fact]
    public void Unread_initializers_and_Constant_nodes_are_removed_everywhere_and_nothing_read_is()
    {
        OnnxModel m = WithLeftovers();
        var feed = Feed("x", Random(1, 3));
        feed["flag"] = DenseTensor.Create(ElementType.Bool, [true], []);
        RewriteResult? result = null;

        OnnxModel swept = AssertSameOutputs(m, x => result = new DeadCodeRewrite().Apply(x), feed);

        Assert.Equal(["inner_unused", "unused_const", "unused"], result!.Changed);
        Assert.Equal(["used", "outer_read", "default_in"], swept.Graph.Initializers.Select(t => t.Name!));
    }

    [Fact]
    public void The_encoder_output_keeps_no_unread_initializer_or_Constant_node()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        fp32.Graph.Initializers.Add(TensorValue.FromFloats("exporter_leftover", [1f, 2f], 2));
        fp32.Graph.Nodes.Insert(0, new Node { OpType = "Constant", Name = "dangling", Outputs = { "dangling_out" }, Attributes = { NodeAttribute.FromTensor("value", TensorValue.FromFloats(string.Empty, [3f], 1)) } });
        var options = new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni };

        OnnxModel encoded = QdqEncoder.Encode(fp32, TestGraphs.SmallConvNetRanges(), options).Model;

        var read = new HashSet<string>(encoded.Graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        Assert.Empty(encoded.Graph.Initializers.Where(t => !read.Contains(t.Name!)).Select(t => t.Name));
        Assert.DoesNotContain(encoded.Graph.Nodes, n => n.OpType == "Constant" && !read.Contains(n.Outputs[0]));
        Assert.Contains(fp32.Graph.Initializers, t => t.Name == "exporter_leftover");
    }
}

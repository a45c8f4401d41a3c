using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Rewrites;
using static QuantBuild.Engine.Tests.Rewrites.RewriteHarness;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>Constant subgraphs computed once by ONNX Runtime, and the ones that must stay nodes.</summary>
public class ConstantFoldingRewriteTests
{
    private static RewriteResult Fold(OnnxModel m)
    {
        RewriteResult result = new ConstantFoldingRewrite().Apply(m);
        new DeadCodeRewrite().Apply(m);
        return result;
    }

    [Fact]
    public void Transposed_weight_and_shape_arithmetic_become_initializers()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 3, 4));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromDense("w_t", Random(1, 5, 4)));
        m.Graph.Add("Constant", "two", [], ["c2"], NodeAttribute.FromTensor("value", GraphConstantsForTests.Int64s(string.Empty, [2], 1)));
        m.Graph.Add("Constant", "minus1", [], ["cm1"], NodeAttribute.FromTensor("value", GraphConstantsForTests.Int64s(string.Empty, [-1], 1)));
        m.Graph.Add("Concat", "shape", ["c2", "cm1"], ["shape2d"], NodeAttribute.FromInt("axis", 0));
        m.Graph.Add("Transpose", "w", ["w_t"], ["w"], NodeAttribute.FromInts("perm", 1, 0));
        m.Graph.Add("MatMul", "mm", ["x", "w"], ["h"]);
        m.Graph.Add("Reshape", "flat", ["h", "shape2d"], ["y"]);
        RewriteResult? result = null;

        OnnxModel folded = AssertSameOutputs(m, x => result = Fold(x), Feed("x", Random(2, 2, 3, 4)));

        Assert.Equal(["MatMul", "Reshape"], OpTypes(folded.Graph));
        Assert.Equal(["shape", "w"], result!.Changed);
        Assert.Equal(new long[] { 4, 5 }, folded.Graph.Initializers.Single(t => t.Name == "w").Dims);
        Assert.Equal(["shape2d", "w"], folded.Graph.Initializers.Select(t => t.Name!).Order());
    }

    [Fact]
    public void A_result_much_larger_than_its_constants_stays_a_node_and_says_why()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 1, 16, 64, 64));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(GraphConstantsForTests.Int64s("dims", [1, 16, 64, 64], 4));
        m.Graph.Add("ConstantOfShape", "fill", ["dims"], ["ones"], NodeAttribute.FromTensor("value", TensorValue.FromFloats(string.Empty, [1f], 1)));
        m.Graph.Add("Add", "add", ["x", "ones"], ["y"]);
        RewriteResult? result = null;

        OnnxModel same = AssertSameOutputs(m, x => result = Fold(x), Feed("x", Random(3, 1, 16, 64, 64)));

        Assert.Equal(["ConstantOfShape", "Add"], OpTypes(same.Graph));
        Assert.Empty(result!.Changed);
        Assert.Contains("262144 bytes computed from 32 bytes", Assert.Single(result.Skipped));
    }

    [Fact]
    public void Overridable_initializers_graph_inputs_and_sub_byte_codes_are_not_constants()
    {
        OnnxModel m = Model(21, 10);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 4, 4));
        m.Graph.Inputs.Add(Value("bias", ElementType.Float, 4));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromDense("bias", Random(4, 4)));
        m.Graph.Initializers.Add(new TensorValue { Name = "codes", ElementType = ElementType.UInt4, Dims = [4, 4], Data = Enumerable.Range(0, 8).Select(i => (byte)(i * 17)).ToArray() });
        m.Graph.Add("Neg", "neg_bias", ["bias"], ["nb"]);
        m.Graph.Add("Cast", "decode", ["codes"], ["w"], NodeAttribute.FromInt("to", (long)ElementType.Float));
        m.Graph.Add("MatMul", "mm", ["x", "w"], ["h"]);
        m.Graph.Add("Add", "add", ["h", "nb"], ["y"]);

        RewriteResult result = Fold(m);

        Assert.Empty(result.Changed);
        Assert.Equal(["Neg", "Cast", "MatMul", "Add"], OpTypes(m.Graph));
    }

    [Fact]
    public void Values_read_by_a_subgraph_are_folded_and_stay_visible_to_it()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 3));
        m.Graph.Inputs.Add(Value("flag", ElementType.Bool));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromFloats("k", [1f, 2f, 3f], 3));
        m.Graph.Add("Mul", "double_k", ["k", "k"], ["k2"]);
        var then = new Graph { Name = "then" };
        then.Outputs.Add(Untyped("t"));
        then.Add("Add", "inner", ["x", "k2"], ["t"]);
        var otherwise = new Graph { Name = "else" };
        otherwise.Outputs.Add(Untyped("e"));
        otherwise.Add("Identity", "pass", ["x"], ["e"]);
        m.Graph.Add("If", "branch", ["flag"], ["y"], NodeAttribute.FromGraph("then_branch", then), NodeAttribute.FromGraph("else_branch", otherwise));
        var feed = Feed("x", Random(5, 3));
        feed["flag"] = DenseTensor.Create(ElementType.Bool, [true], []);

        OnnxModel folded = AssertSameOutputs(m, x => Fold(x), feed);

        Assert.Equal(["If"], OpTypes(folded.Graph));
        Assert.Contains(folded.Graph.Initializers, t => t.Name == "k2");
    }
}

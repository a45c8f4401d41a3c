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
    [Fact]
    public void In_a_Loop_body_what_every_iteration_computes_alike_is_folded_and_what_reads_the_carried_state_is_not()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 4));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromDense("w_t", Random(3, 4, 4)));
        m.Graph.Initializers.Add(GraphConstantsForTests.Int64s("steps", [3]));
        var body = new Graph { Name = "body" };
        body.Inputs.Add(Value("i", ElementType.Int64));
        body.Inputs.Add(Value("cond_in", ElementType.Bool));
        body.Inputs.Add(Untyped("h_in"));
        body.Outputs.Add(Untyped("cond_out", ElementType.Bool));
        body.Outputs.Add(Untyped("h_out"));
        body.Add("Transpose", "w", ["w_t"], ["w"], NodeAttribute.FromInts("perm", 1, 0)); // the outer weight: the same every step
        body.Add("Constant", "half", [], ["half"], NodeAttribute.FromTensor("value", TensorValue.FromFloats(string.Empty, [0.5f])));
        body.Add("MatMul", "mm", ["h_in", "w"], ["hw"]);
        body.Add("Mul", "scaled", ["h_in", "half"], ["h_half"]); // the carried state times a constant: a new value every step
        body.Add("Add", "sum", ["hw", "h_half"], ["pre"]);
        body.Add("Tanh", "act", ["pre"], ["h_out"]);
        body.Add("Identity", "keep_going", ["cond_in"], ["cond_out"]);
        m.Graph.Add("Loop", "loop", ["steps", "", "x"], ["y"], NodeAttribute.FromGraph("body", body));

        OnnxModel folded = AssertSameOutputs(m, x => Fold(x), Feed("x", Random(9, 2, 4)));

        Graph foldedBody = folded.Graph.Nodes.Single().FindAttribute("body")!.Graph!;
        Assert.Equal(["MatMul", "Mul", "Add", "Tanh", "Identity"], OpTypes(foldedBody).Where(o => o != "Constant"));
        Assert.Contains(foldedBody.Initializers, t => t.Name == "w");
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// What the manifest says a written model holds (<c>weights.written</c>, <c>activations.dynamic</c>) is read from the
/// graph as written, and a model whose layers sit inside If branches (the Silero VAD's LSTMs) must not read as holding
/// no integer weight at all. The graph is built here as the encoder writes it: a main-graph QDQ MatMul, and an If whose
/// then branch holds a DynamicQuantizeMatMul with its int8 weight and a DynamicQuantizeLSTM reading int8 W and R from
/// the main graph.
/// </summary>
public sealed class WrittenModelTests
{
    [Fact]
    public void Weights_and_dynamic_layers_inside_If_branches_are_read_like_the_main_graphs()
    {
        Graph g = Written();

        SortedDictionary<int, List<string>> bits = WrittenWeights.Bits(g);
        List<string> dynamic = WrittenActivations.Dynamic(g);

        Assert.Equal(new[] { 8 }, bits.Keys);
        Assert.Equal(["fc", "then_dqmm", "then_lstm"], bits[8]);
        Assert.Equal(["then_dqmm", "then_lstm"], dynamic);
    }

    [Fact]
    public void A_float_weight_in_a_branch_counts_as_no_width()
    {
        Graph g = Written();
        Graph then = g.Nodes.Single(n => n.OpType == "If").FindAttribute("then_branch")!.Graph!;
        then.Initializers.Replace(then.Initializers.FindIndex(t => t.Name == "dq_w"), TensorValue.FromFloats("dq_w", new float[16], 4, 4));

        SortedDictionary<int, List<string>> bits = WrittenWeights.Bits(g);

        Assert.Equal(["fc", "then_lstm"], bits[8]);
    }

    private static TensorValue Int8(string name, params long[] dims) =>
        new() { Name = name, ElementType = ElementType.Int8, Dims = dims, Data = new byte[dims.Aggregate(1L, (a, b) => a * b)] };

    private static Graph Written()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 4));
        g.Inputs.Add(TestGraphs.Value("c", ElementType.Bool));
        g.Initializers.Add(Int8("fc_w_q", 4, 4));
        g.Initializers.Add(TensorValue.FromFloats("fc_w_scale", [0.1f, 0.1f, 0.1f, 0.1f], 4));
        g.AddNode("DequantizeLinear", "fc_w_dq", ["fc_w_q", "fc_w_scale"], ["fc_w"]);
        g.AddNode("MatMul", "fc", ["x", "fc_w"], ["h"]);
        g.Initializers.Add(Int8("lstm_w", 1, 16, 4));
        g.Initializers.Add(Int8("lstm_r", 1, 16, 4));

        var then = new Graph { Name = "then" };
        then.Initializers.Add(Int8("dq_w", 4, 4));
        then.Initializers.Add(TensorValue.FromFloats("dq_scale", [0.1f]));
        then.Initializers.Add(Int8("dq_zero", 1));
        then.AddNode("DynamicQuantizeMatMul", "then_dqmm", ["h", "dq_w", "dq_scale", "dq_zero"], ["t1"]).Domain = "com.microsoft";
        then.AddNode("DynamicQuantizeLSTM", "then_lstm", ["t1", "lstm_w", "lstm_r"], ["t2"]).Domain = "com.microsoft";
        then.Outputs.Add(TestGraphs.Value("t2", ElementType.Float));
        var otherwise = new Graph { Name = "else" };
        otherwise.AddNode("Identity", "else_id", ["h"], ["e1"]);
        otherwise.Outputs.Add(TestGraphs.Value("e1", ElementType.Float));
        g.AddNode("If", "branch", ["c"], ["y"], NodeAttribute.FromGraph("then_branch", then), NodeAttribute.FromGraph("else_branch", otherwise));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float));
        return g;
    }
}

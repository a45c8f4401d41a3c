using QuantBuild.Abstractions.Ir;

namespace QuantBuild.PassKit.Tests;

public sealed class GraphIndexTests
{
    [Fact]
    public void Constant_nodes_in_every_float_form_are_constants_and_overridable_initializers_are_not()
    {
        var graph = new Graph();
        graph.Inputs.Add(OrtModels.Value("x", [2]));
        graph.Inputs.Add(OrtModels.Value("default", [2]));
        graph.Initializers.Add(TensorValue.FromFloats("default", [1f, 2f], 2));
        graph.Initializers.Add(TensorValue.FromFloats("weight", [3f, 4f], 2));
        graph.Nodes.Add(Constant("tensor", NodeAttribute.FromTensor("value", TensorValue.FromFloats(string.Empty, [5f, 6f], 2))));
        graph.Nodes.Add(Constant("scalar", NodeAttribute.FromFloat("value_float", 7f)));
        graph.Nodes.Add(Constant("list", NodeAttribute.FromFloats("value_floats", 8f, 9f)));

        var index = new GraphIndex(graph, irVersion: 8);

        Assert.False(index.IsConstant("default")); // a graph input with a default: the caller may feed another value
        Assert.Equal(ConstantKind.Initializer, index.KindOf("weight"));
        Assert.Equal([5f, 6f], index.FloatConstant("tensor", out long[] dims)!);
        Assert.Equal([2L], dims);
        Assert.Equal([7f], index.FloatConstant("scalar", out _)!);
        Assert.Equal([8f, 9f], index.FloatConstant("list", out _)!);
        Assert.Equal(ConstantKind.ConstantNode, index.KindOf("list"));
        Assert.True(new GraphIndex(graph, irVersion: 3).IsConstant("default")); // before IR 4 initializers had to be inputs
    }

    [Fact]
    public void A_constant_a_subgraph_reads_is_never_removed()
    {
        var body = new Graph { Name = "then" };
        var read = new Node { OpType = "Identity" };
        read.Inputs.Add("c");
        read.Outputs.Add("out");
        body.Nodes.Add(read);
        var graph = new Graph();
        graph.Initializers.Add(TensorValue.FromFloats("c", [1f], 1));
        graph.Initializers.Add(TensorValue.FromFloats("unused", [1f], 1));
        var branch = new Node { OpType = "If" };
        branch.Inputs.Add("cond");
        branch.Attributes.Add(NodeAttribute.FromGraph("then_branch", body));
        graph.Nodes.Add(branch);

        var index = new GraphIndex(graph);

        Assert.Equal(1, index.UseCount("c"));
        Assert.False(index.RemoveIfUnused("c"));
        Assert.True(index.RemoveIfUnused("unused"));
        Assert.Equal(["c"], graph.Initializers.Select(t => t.Name));
    }

    [Fact]
    public void Setting_a_constant_node_keeps_it_a_node_and_unique_names_never_collide()
    {
        var graph = new Graph();
        graph.Nodes.Add(Constant("w", NodeAttribute.FromFloat("value_float", 1f)));
        var index = new GraphIndex(graph);

        index.SetConstant("w", TensorValue.FromFloats("ignored", [2f, 3f], 2));

        Node node = Assert.Single(graph.Nodes);
        NodeAttribute value = Assert.Single(node.Attributes);
        Assert.Equal("value", value.Name);
        Assert.Equal([2f, 3f], new GraphIndex(graph).FloatConstant("w", out _)!);
        Assert.Equal("w_1", index.UniqueName("w"));
        Assert.Equal("w_2", index.UniqueName("w"));
    }

    private static Node Constant(string output, NodeAttribute value)
    {
        var node = new Node { OpType = "Constant", Name = output + "_node" };
        node.Outputs.Add(output);
        node.Attributes.Add(value);
        return node;
    }
}

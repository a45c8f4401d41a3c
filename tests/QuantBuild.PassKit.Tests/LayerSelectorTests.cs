using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;

namespace QuantBuild.PassKit.Tests;

public sealed class LayerSelectorTests
{
    private static readonly Graph Model = Graph("blocks.0/q/MatMul", "blocks.0/k/MatMul", "blocks.1/q/MatMul", "head/Gemm", "embed/Gather");

    [Fact]
    public void Names_op_types_and_patterns_select_and_exclude_wins()
    {
        var selector = new LayerSelector(["MatMul", "Gemm"], include: ["blocks.*/q/*", "Gemm"], exclude: ["blocks.1/?/MatMul"]);

        Assert.Equal(["blocks.0/q/MatMul", "head/Gemm"], Model.Nodes.Where(selector.Selects).Select(n => n.Name));
        selector.Check(Model, "test", "QB9999");
    }

    [Fact]
    public void An_empty_include_selects_the_implicit_op_types_only()
    {
        var selector = new LayerSelector(["MatMul", "Gemm", "Gather"], implicitOpTypes: ["MatMul", "Gemm"]);
        Assert.DoesNotContain(Model.Nodes.Where(selector.Selects), n => n.OpType == "Gather");
        Assert.True(new LayerSelector(["MatMul", "Gemm", "Gather"], ["Gather"], implicitOpTypes: ["MatMul"]).Selects(Model.Nodes[^1])); // named: selected
    }

    [Fact]
    public void An_entry_that_names_nothing_is_the_passes_error_quoting_it_and_listing_names_to_use()
    {
        var selector = new LayerSelector(["MatMul", "Gemm"], include: ["blocks.0/q/MatMul", "blocks.9/*"], exclude: ["Matmul"]);

        var error = Assert.Throws<QuantBuildException>(() => selector.Check(Model, "mypass", "QB9123"));

        Assert.Equal("QB9123", error.Code);
        Assert.StartsWith("mypass: layers names 'blocks.9/*'; exclude names 'Matmul'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'blocks.0/q/MatMul'", error.Message, StringComparison.Ordinal);
        Assert.Contains("head/Gemm", error.Fix, StringComparison.Ordinal);
    }

    private static Graph Graph(params string[] names)
    {
        var graph = new Graph();
        foreach (string name in names)
        {
            var node = new Node { Name = name, OpType = name[(name.LastIndexOf('/') + 1)..] };
            node.Inputs.AddRange(["x", "w"]);
            node.Outputs.Add(name + ":0");
            graph.Nodes.Add(node);
        }

        return graph;
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// A dynamic MatMul followed by an fp32 Add of a constant vector (an exported Linear: MatMul + Add) takes the vector as
/// DynamicQuantizeMatMul's bias input and the Add goes: ONNX Runtime does not fuse the two itself, and on the tiny
/// transformer one kernel per linear fewer is 12 % of its batch-1 latency (docs/benchmarks.md).
/// </summary>
internal static class DynamicBiasFold
{
    /// <summary>Marks each such Add <see cref="NodeMode.FoldedIntoProducer"/> (and clears its fp32 reason).</summary>
    public static void Apply(GraphIndex index, EncodeOptions options, NodeMode[] modes, string?[] reasons)
    {
        IrList<Node> nodes = index.Graph.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            // An Add the yaml or a pass keeps in float by name or type stays a node of its own.
            if (FoldedAdd(index, modes, i) is int add && !options.ExcludedOpTypes.Contains("Add")
                && !(nodes[add].Name is { } name && (options.ExcludedNodeNames.Contains(name) || options.KeptInFloat.ContainsKey(name))))
            {
                modes[add] = NodeMode.FoldedIntoProducer;
                reasons[add] = null;
            }
        }
    }

    /// <summary>For a dynamic MatMul whose Add was folded: that Add's bias input and output; else null.</summary>
    public static (string Bias, string Output)? Of(GraphIndex index, NodeMode[] modes, int matmul)
    {
        if (index.Graph.Nodes[matmul].OpType != "MatMul" || index.Consumers(index.Graph.Nodes[matmul].Outputs[0]) is not [int add]
            || modes[add] != NodeMode.FoldedIntoProducer)
        {
            return null;
        }

        Node a = index.Graph.Nodes[add];
        return (BiasOf(a, index.Graph.Nodes[matmul].Outputs[0])!, a.Outputs[0]);
    }

    private static int? FoldedAdd(GraphIndex index, NodeMode[] modes, int i)
    {
        Node node = index.Graph.Nodes[i];
        if (modes[i] != NodeMode.DynamicInteger || node.OpType != "MatMul" || node.Outputs.Count != 1)
        {
            return null;
        }

        string output = node.Outputs[0];
        if (index.IsGraphOutput(output) || index.SubgraphReaders.Contains(output) || index.Consumers(output) is not [int add] || modes[add] != NodeMode.Fp32)
        {
            return null;
        }

        Node a = index.Graph.Nodes[add];
        if (!a.IsDefaultDomain || a.OpType != "Add" || a.Inputs.Count != 2 || a.Inputs[0] == a.Inputs[1] || BiasOf(a, output) is not { } bias)
        {
            return null;
        }

        long columns = index.Constant(node.Inputs[1])!.Dims[1];
        return !index.IsOverridableInitializer(bias) && index.Constant(bias) is { ElementType: ElementType.Float, Dims: [long n] } && n == columns ? add : null;
    }

    private static string? BiasOf(Node add, string matmulOutput) =>
        add.Inputs[0] == matmulOutput ? add.Inputs[1] : add.Inputs[1] == matmulOutput ? add.Inputs[0] : null;
}

using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>Which nodes ONNX Runtime computes once at session creation because they read constants only.</summary>
internal static class ConstantFolding
{
    /// <summary>
    /// True when every input of <paramref name="node"/> is constant by <paramref name="isConstant"/> (an initializer, a
    /// Constant node's output, or the output of a node this says yes to), so ONNX Runtime computes it once at session
    /// creation: a weight decoded from packed codes, for example. Nodes with no inputs (random generators), subgraphs
    /// or a non-default domain never count, and neither do Q/DQ nodes (ONNX Runtime keeps those for its QDQ fusions
    /// rather than folding them).
    /// </summary>
    public static bool ComputesAConstant(Node node, Func<string, bool> isConstant)
    {
        if (!node.IsDefaultDomain || node.OpType.StartsWith("Random", StringComparison.Ordinal)
            || node.OpType is "Multinomial" or "QuantizeLinear" or "DequantizeLinear" or "DynamicQuantizeLinear"
            || node.Attributes.Any(a => a.Graph is not null || a.Graphs.Count > 0))
        {
            return false;
        }

        int inputs = 0;
        foreach (string input in node.Inputs)
        {
            if (input.Length == 0)
            {
                continue;
            }

            if (!isConstant(input))
            {
                return false;
            }

            inputs++;
        }

        return inputs > 0;
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Rewrites;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// The weight bit widths a written model really holds, as its bytes hold them: each DequantizeLinear fed by an integer
/// initializer, by the element type stored, grouped by the nodes it feeds (and each Cast → Mul expansion of one, as GRU and
/// RNN weights are stored), each MatMulNBits by its 'bits', and each DynamicQuantizeMatMul/DynamicQuantizeLSTM by its
/// integer weight; in the main graph and inside If branches and Loop/Scan bodies. The manifest records this rather than the
/// yaml's 'weights.bits', which the encoder applies only where it can (4-bit only to MatMul weights).
/// </summary>
public static class WrittenWeights
{
    /// <summary>Bits per weight → the names of the nodes whose weights are stored at that width, in graph order.</summary>
    public static SortedDictionary<int, List<string>> Bits(string modelPath) => Bits(OnnxModelLoader.Load(modelPath).Graph);

    /// <summary>The same, from the graph in memory that is (or was just) written.</summary>
    public static SortedDictionary<int, List<string>> Bits(Graph graph)
    {
        List<Node> nodes = GraphWalk.AllNodes(graph).ToList();
        IEnumerable<Graph> graphs = nodes.SelectMany(GraphWalk.Subgraphs).Prepend(graph);
        var initializers = new Dictionary<string, ElementType>(StringComparer.Ordinal);
        foreach (TensorValue t in graphs.SelectMany(g => g.Initializers))
        {
            if (t.Name is { } name)
            {
                initializers[name] = t.ElementType;
            }
        }

        var dequantized = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Node node in nodes)
        {
            if (node.OpType == "DequantizeLinear" && node.Inputs.Count > 0 && initializers.TryGetValue(node.Inputs[0], out ElementType type)
                && !ElementTypeInfo.IsFloatingPoint(type) && type is not (ElementType.Int32 or ElementType.Int64))
            {
                // int32 is a bias (its scale is the product of input and weight scales), not a weight width.
                dequantized[node.Outputs[0]] = ElementTypeInfo.BitsPerElement(type);
            }
        }

        // GRU/RNN weights stored as integers and expanded by Cast → Mul (a scale), which ONNX Runtime folds at load.
        var cast = new Dictionary<string, int>(StringComparer.Ordinal);
        var expansion = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (Node node in nodes)
        {
            if (node.OpType == "Cast" && node.Inputs.Count == 1 && initializers.TryGetValue(node.Inputs[0], out ElementType type)
                && !ElementTypeInfo.IsFloatingPoint(type) && type is not (ElementType.Int32 or ElementType.Int64))
            {
                cast[node.Outputs[0]] = ElementTypeInfo.BitsPerElement(type);
                expansion.Add(node);
            }
            else if (node.OpType == "Mul" && node.Inputs.Count == 2 && cast.TryGetValue(node.Inputs[0], out int bits) && initializers.ContainsKey(node.Inputs[1]))
            {
                dequantized[node.Outputs[0]] = bits;
                expansion.Add(node);
            }
        }

        var result = new SortedDictionary<int, List<string>>();
        void Add(int bits, Node node)
        {
            if (!result.TryGetValue(bits, out List<string>? nodes))
            {
                result[bits] = nodes = new List<string>();
            }

            if (!nodes.Contains(node.DisplayName))
            {
                nodes.Add(node.DisplayName);
            }
        }

        foreach (Node node in nodes)
        {
            // MatMulNBits holds its packed weight itself; its 'bits' attribute is the width.
            if (node.Domain == "com.microsoft" && node.OpType == "MatMulNBits" && node.FindAttribute("bits") is { Int: long width })
            {
                Add((int)width, node);
            }

            // The run-time-quantized kernels read their integer weights straight from initializers: B (input 1) of
            // DynamicQuantizeMatMul, W and R (inputs 1 and 2) of DynamicQuantizeLSTM; not their zero points.
            int weights = node.Domain != "com.microsoft" ? 0 : node.OpType switch { "DynamicQuantizeMatMul" => 1, "DynamicQuantizeLSTM" => 2, _ => 0 };
            if (node.Inputs.Skip(1).Take(weights).FirstOrDefault(i => initializers.TryGetValue(i, out ElementType t) && !ElementTypeInfo.IsFloatingPoint(t)) is { } stored)
            {
                Add(ElementTypeInfo.BitsPerElement(initializers[stored]), node);
            }

            foreach (string input in node.Inputs)
            {
                if (dequantized.TryGetValue(input, out int bits) && node.OpType != "DequantizeLinear" && !expansion.Contains(node))
                {
                    Add(bits, node);
                }
            }
        }

        return result;
    }
}

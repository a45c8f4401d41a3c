using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization.Operators;

namespace QuantBuild.Engine.Quantization;

/// <summary>Chooses the encoding of every activation that gets Q/DQ, including the ones that must share one.</summary>
internal static class ActivationPlanner
{
    /// <summary>
    /// The producer whose output (the input of Relu/Clip <paramref name="node"/>) would take <paramref name="node"/>'s
    /// encoding when both are integer: a range-carrying producer, and the activation its output's only reader, with
    /// neither a graph output nor read inside a subgraph. Null when <paramref name="node"/> cannot fold.
    /// </summary>
    public static int? FoldTarget(GraphIndex index, GraphOps ops, Node node)
    {
        if (!ops.FoldsIntoProducer(node) || node.Inputs.Count == 0 || node.Outputs.Count == 0 || node.Inputs[0].Length == 0)
        {
            return null;
        }

        string input = node.Inputs[0];
        return index.Producer(input) is { } p && ops.RoleOf(index.Graph.Nodes[p]) != OpRole.ScaleInheriting
            && index.Consumers(input).Count == 1 && !index.IsGraphOutput(input) && !index.SubgraphReaders.Contains(input)
            ? p
            : null;
    }

    /// <summary>
    /// The tensors whose own range the encoder never reads under <paramref name="modes"/>: each output of a layer that
    /// takes the encoding of the integer Relu/Clip folded into it (that activation's output is planned instead).
    /// </summary>
    public static HashSet<string> Folded(GraphIndex index, GraphOps ops, NodeMode[] modes)
    {
        var folded = new HashSet<string>(StringComparer.Ordinal);
        IrList<Node> nodes = index.Graph.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            if (modes[i] == NodeMode.Integer && FoldTarget(index, ops, node) is { } p && modes[p] == NodeMode.Integer
                && node.Outputs[0].Length > 0 && !index.IsGraphOutput(node.Outputs[0]))
            {
                folded.Add(node.Inputs[0]);
            }
        }

        return folded;
    }

    public static Dictionary<string, ActivationEncoding> Encodings(
        GraphIndex index, GraphOps ops, NodeMode[] modes, IReadOnlyDictionary<string, TensorRange> ranges, DeviceProfile profile)
    {
        var encodings = new Dictionary<string, ActivationEncoding>(StringComparer.Ordinal);
        IrList<Node> nodes = index.Graph.Nodes;

        // Every range-carrying tensor on its own calibrated range (constants on their values).
        for (int i = 0; i < nodes.Count; i++)
        {
            if (modes[i] != NodeMode.Integer)
            {
                continue;
            }

            Node node = nodes[i];
            foreach (int position in ops.ActivationInputs(node))
            {
                Add(node.Inputs[position]);
            }

            if (ops.RoleOf(node) != OpRole.ScaleInheriting)
            {
                for (int o = 0; o < ops.DataOutputCount(node); o++)
                {
                    if (node.Outputs[o].Length > 0 && !index.IsGraphOutput(node.Outputs[o]))
                    {
                        Add(node.Outputs[o]);
                    }
                }
            }
        }

        // Conv → Relu: the Conv's output takes the Relu's (narrower) encoding, so ORT sees matching Q/DQ on both
        // sides of the Relu, drops it (Q already clips at the zero point) and writes the Conv's output directly in
        // the grid the next layer reads.
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            if (modes[i] != NodeMode.Integer || !ops.FoldsIntoProducer(node))
            {
                continue;
            }

            if (FoldTarget(index, ops, node) is { } p && modes[p] == NodeMode.Integer
                && encodings.TryGetValue(node.Outputs[0], out ActivationEncoding? narrower))
            {
                encodings[node.Inputs[0]] = narrower;
            }
        }

        // Shape-only ops: the output reuses the input's scale and zero point, in graph order so chains propagate.
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            if (modes[i] == NodeMode.Integer && ops.RoleOf(node) == OpRole.ScaleInheriting)
            {
                ActivationEncoding source = encodings[node.Inputs[0]];
                foreach (string output in node.Outputs)
                {
                    if (output.Length > 0)
                    {
                        encodings[output] = source;
                    }
                }
            }
        }

        return encodings;

        void Add(string tensor)
        {
            if (encodings.ContainsKey(tensor))
            {
                return;
            }

            if (index.Constant(tensor) is { } constant)
            {
                encodings[tensor] = ActivationEncoder.Encode(tensor, ActivationEncoder.RangeOf(constant.AsReadOnlySpan<float>()), profile);
            }
            else if (ranges.TryGetValue(tensor, out TensorRange? range))
            {
                encodings[tensor] = ActivationEncoder.Encode(tensor, range, profile);
            }
        }
    }
}

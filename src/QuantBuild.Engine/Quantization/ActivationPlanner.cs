using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization.Operators;

namespace QuantBuild.Engine.Quantization;

/// <summary>Chooses the encoding of every activation that gets Q/DQ, including the ones that must share one.</summary>
internal static class ActivationPlanner
{
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

            string input = node.Inputs[0];
            string output = node.Outputs[0];
            if (index.Producer(input) is { } p && modes[p] == NodeMode.Integer && ops.RoleOf(nodes[p]) != OpRole.ScaleInheriting
                && index.Consumers(input).Count == 1 && !index.IsGraphOutput(input) && !index.SubgraphReaders.Contains(input)
                && encodings.TryGetValue(output, out ActivationEncoding? narrower))
            {
                encodings[input] = narrower;
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

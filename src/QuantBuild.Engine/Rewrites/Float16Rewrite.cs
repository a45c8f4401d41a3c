using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Turns an fp16 or bf16 model into one that computes in fp32 inside the same interface, so it can be calibrated
/// and quantized like any other: half-precision initializers, Constant values and Casts become float32, and each
/// half-precision graph input or output gets one Cast at the boundary. The app keeps feeding and reading the
/// types it did; the layers left unquantized run in fp32, which is what ONNX Runtime's CPU provider runs fastest.
/// </summary>
internal sealed class Float16Rewrite : IGraphRewrite
{
    public string Name => "float16-to-float32";

    public RewriteResult Apply(OnnxModel model)
    {
        var changed = new List<string>();
        int tensors = ConvertGraph(model.Graph, changed);
        int boundaries = WrapInputs(model.Graph, changed) + WrapOutputs(model.Graph, changed);
        return RewriteResult.Of(Name, changed.Distinct(StringComparer.Ordinal), detail: tensors + boundaries == 0 && changed.Count == 0
            ? null
            : $"{tensors} half-precision tensors widened to float32, {boundaries} Casts at the graph boundary");
    }

    private static bool IsHalf(ElementType type) => type is ElementType.Float16 or ElementType.BFloat16;

    private static int ConvertGraph(Graph graph, List<string> changed)
    {
        int count = 0;
        for (int i = 0; i < graph.Initializers.Count; i++)
        {
            if (IsHalf(graph.Initializers[i].ElementType))
            {
                graph.Initializers.Replace(i, Widen(graph.Initializers[i]));
                count++;
            }
        }

        foreach (ValueInfo value in graph.ValueInfo)
        {
            if (value.TensorType is { } t && IsHalf(t.ElementType))
            {
                t.ElementType = ElementType.Float;
            }
        }

        foreach (Node node in graph.Nodes)
        {
            foreach (NodeAttribute attribute in node.Attributes)
            {
                if (attribute.Tensor is { } tensor && IsHalf(tensor.ElementType))
                {
                    attribute.Tensor = Widen(tensor);
                    count++;
                    changed.Add(node.DisplayName);
                }

                // Cast(to=float16) inside the model, and ops with an output-type attribute, compute in float32 now.
                if (attribute.Name is "to" or "dtype" && attribute.Int is (long)ElementType.Float16 or (long)ElementType.BFloat16)
                {
                    attribute.Int = (long)ElementType.Float;
                    changed.Add(node.DisplayName);
                }

                if (attribute.Graph is { } g)
                {
                    count += ConvertSubgraph(g, changed);
                }

                foreach (Graph sub in attribute.Graphs)
                {
                    count += ConvertSubgraph(sub, changed);
                }
            }
        }

        return count;
    }

    // A subgraph's own inputs and outputs (a Loop body's carried values) are internal to the model: widen them too.
    private static int ConvertSubgraph(Graph graph, List<string> changed)
    {
        foreach (ValueInfo value in graph.Inputs.Concat(graph.Outputs))
        {
            if (value.TensorType is { } t && IsHalf(t.ElementType))
            {
                t.ElementType = ElementType.Float;
            }
        }

        return ConvertGraph(graph, changed);
    }

    private static TensorValue Widen(TensorValue half)
    {
        ReadOnlySpan<ushort> raw = half.AsReadOnlySpan<ushort>();
        var values = new float[raw.Length];
        bool brain = half.ElementType == ElementType.BFloat16;
        for (int i = 0; i < values.Length; i++)
        {
            ushort bits = raw[i];
            values[i] = brain ? BitConverter.Int32BitsToSingle(bits << 16) : (float)BitConverter.UInt16BitsToHalf(bits);
        }

        TensorValue wide = TensorValue.FromFloats(half.Name ?? string.Empty, values, half.Dims);
        wide.DocString = half.DocString;
        wide.MetadataProps.AddRange(half.MetadataProps);
        return wide;
    }

    // input(fp16) → Cast(to float) → input_float32, and every reader of the input reads the float copy.
    private static int WrapInputs(Graph graph, List<string> changed)
    {
        var initializers = new HashSet<string>(graph.Initializers.Select(t => t.Name ?? string.Empty), StringComparer.Ordinal);
        var names = new NameTable(graph);
        int count = 0;
        foreach (ValueInfo input in graph.Inputs)
        {
            if (input.TensorType is not { } t || !IsHalf(t.ElementType) || initializers.Contains(input.Name))
            {
                continue;
            }

            string wide = names.Take(input.Name + "_float32");
            Rename(graph, input.Name, wide, renameOutputs: false);
            var cast = new Node { Name = names.Take(input.Name + "_Cast"), OpType = "Cast" };
            cast.Inputs.Add(input.Name);
            cast.Outputs.Add(wide);
            cast.Attributes.Add(NodeAttribute.FromInt("to", (long)ElementType.Float));
            graph.Nodes.Insert(0, cast);
            changed.Add(cast.Name!);
            count++;
        }

        return count;
    }

    // producer → output_float32 → Cast(to the output's type) → output, so the app reads the type it always did.
    private static int WrapOutputs(Graph graph, List<string> changed)
    {
        var names = new NameTable(graph);
        int count = 0;
        foreach (ValueInfo output in graph.Outputs)
        {
            if (output.TensorType is not { } t || !IsHalf(t.ElementType))
            {
                continue;
            }

            string wide = names.Take(output.Name + "_float32");
            Rename(graph, output.Name, wide, renameOutputs: true);
            var cast = new Node { Name = names.Take(output.Name + "_Cast"), OpType = "Cast" };
            cast.Inputs.Add(wide);
            cast.Outputs.Add(output.Name);
            cast.Attributes.Add(NodeAttribute.FromInt("to", (long)t.ElementType));
            graph.Nodes.Add(cast);
            changed.Add(cast.Name!);
            count++;
        }

        return count;
    }

    // Reads of `from` (and, for outputs, the node writing it) now use `to`, through subgraphs that do not shadow it.
    private static void Rename(Graph graph, string from, string to, bool renameOutputs)
    {
        foreach (Node node in graph.Nodes)
        {
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                if (node.Inputs[i] == from)
                {
                    node.Inputs.Replace(i, to);
                }
            }

            if (renameOutputs)
            {
                for (int i = 0; i < node.Outputs.Count; i++)
                {
                    if (node.Outputs[i] == from)
                    {
                        node.Outputs.Replace(i, to);
                    }
                }
            }

            foreach (NodeAttribute attribute in node.Attributes)
            {
                foreach (Graph sub in attribute.Graphs.Prepend(attribute.Graph).OfType<Graph>())
                {
                    bool shadowed = sub.Inputs.Any(i => i.Name == from) || sub.Initializers.Any(t => t.Name == from)
                        || sub.Nodes.Any(n => n.Outputs.Contains(from));
                    if (!shadowed)
                    {
                        Rename(sub, from, to, renameOutputs: false);
                    }
                }
            }
        }
    }
}

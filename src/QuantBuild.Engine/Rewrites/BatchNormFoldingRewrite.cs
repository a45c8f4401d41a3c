using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul (constant 2-D weight,
/// 2-D output) right before it: y = (W·x + b - mean)·a + B with a = scale / √(var + ε) is W' = W·a per output channel
/// and b' = (b - mean)·a + B. A BN left in place stays fp32 between Q/DQ pairs and stops ORT's integer fusion, which
/// is why an int8 CNN exported with BN nodes ran slower than fp32. A BN that cannot be folded is listed with why.
/// </summary>
internal sealed class BatchNormFoldingRewrite : IGraphRewrite
{
    public string Name => "batchnorm-folding";

    public RewriteResult Apply(OnnxModel model)
    {
        Graph graph = model.Graph;
        var changed = new List<string>();
        var skipped = new List<string>();
        var names = new NameTable(graph);
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            Node bn = graph.Nodes[i];
            if (!bn.IsDefaultDomain || bn.OpType != "BatchNormalization")
            {
                continue;
            }

            // Indices, readers and constants are rebuilt per BN: each fold changes the graph under the next one.
            var constants = new GraphConstants(graph, model.IrVersion);
            var facts = new ValueFacts(graph);
            string? why = Fold(graph, bn, constants, facts, names);
            if (why is null)
            {
                changed.Add(bn.DisplayName);
                i--; // the BN's slot now holds the next node (or the Add that replaced it)
            }
            else
            {
                skipped.Add($"{bn.DisplayName}: {why}");
            }
        }

        return RewriteResult.Of(Name, changed, skipped);
    }

    /// <summary>Folds <paramref name="bn"/> and returns null, or returns why it cannot.</summary>
    private static string? Fold(Graph graph, Node bn, GraphConstants constants, ValueFacts facts, NameTable names)
    {
        if (bn.FindAttribute("training_mode")?.Int == 1 || bn.Outputs.Skip(1).Any(o => o.Length > 0) || bn.FindAttribute("spatial")?.Int == 0)
        {
            return "it computes batch statistics (training mode or spatial=0), not a fixed per-channel affine map";
        }

        float[]?[] p = [.. bn.Inputs.Skip(1).Take(4).Select(constants.Floats)];
        if (p.Length < 4 || p.Any(v => v is null))
        {
            return "its scale, bias, mean and variance are not all fp32 constants";
        }

        string x = bn.Inputs[0];
        int producerAt = graph.Nodes.FindIndex(n => n.Outputs.Contains(x));
        if (producerAt < 0)
        {
            return "it reads a graph input, not the output of a Conv, ConvTranspose, Gemm or MatMul";
        }

        Node linear = graph.Nodes[producerAt];
        if (!linear.IsDefaultDomain || linear.OpType is not ("Conv" or "ConvTranspose" or "Gemm" or "MatMul"))
        {
            return $"it follows {linear.OpType} '{linear.DisplayName}', not a Conv, ConvTranspose, Gemm or MatMul";
        }

        var readers = graph.Nodes.Where(n => n.Inputs.Contains(x)).ToList();
        bool elsewhere = graph.Outputs.Any(o => o.Name == x)
            || graph.Nodes.Any(n => GraphWalk.Subgraphs(n).Any(g => GraphWalk.ReadNames(g).Contains(x)));
        if (readers.Count != 1 || elsewhere)
        {
            return $"the output of '{linear.DisplayName}' is read by more than this BatchNormalization";
        }

        float epsilon = bn.FindAttribute("epsilon")?.Float ?? 1e-5f;
        int channels = p[0]!.Length;
        var a = new double[channels];
        var shift = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            a[c] = p[0]![c] / Math.Sqrt(p[3]![c] + (double)epsilon);
            shift[c] = p[1]![c] - p[2]![c] * a[c];
        }

        LinearFold? fold = null;
        string? why = linear.OpType switch
        {
            "Conv" or "ConvTranspose" => LinearFold.Conv(linear, constants, a, shift, out fold),
            "Gemm" => LinearFold.Gemm(linear, constants, a, shift, out fold),
            _ => LinearFold.MatMul(linear, constants, facts, a, shift, out fold),
        };
        return why ?? Apply(graph, linear, bn, fold!, names);
    }

    /// <summary>Puts the folded linear node where the original was, removes the BN, and adds the new constants.</summary>
    private static string? Apply(Graph graph, Node linear, Node bn, LinearFold fold, NameTable names)
    {
        Node replaced = ModelCopy.Clone(linear);
        foreach ((int position, string wanted, TensorValue value) in fold.Constants)
        {
            value.Name = names.Take(wanted);
            graph.Initializers.Add(value);
            ConversionScope.SetInput(replaced, position, value.Name);
        }

        foreach (NodeAttribute attribute in fold.Attributes)
        {
            replaced.Attributes.RemoveAll(a => a.Name == attribute.Name);
            replaced.Attributes.Add(attribute);
        }

        int at = graph.Nodes.IndexOf(linear);
        if (fold.AddBias is { } bias)
        {
            // MatMul has no bias input: the shift becomes an Add where the BN was.
            bias.Name = names.Take(linear.Outputs[0] + "_bn_shift");
            graph.Initializers.Add(bias);
            var add = new Node { OpType = "Add", Name = names.Take(bn.DisplayName) };
            add.Inputs.Add(linear.Outputs[0]);
            add.Inputs.Add(bias.Name);
            add.Outputs.Add(bn.Outputs[0]);
            graph.Nodes.Replace(graph.Nodes.IndexOf(bn), add);
        }
        else
        {
            replaced.Outputs.Replace(0, bn.Outputs[0]);
            graph.Nodes.Remove(bn);
        }

        graph.Nodes.Replace(at, replaced);
        return null;
    }
}

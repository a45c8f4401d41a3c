using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Finds LayerNorm written out as elementary ops, the way exporters before opset 17 (and TF converters) emit it:
/// mean = ReduceMean(x); d = x - mean; var = ReduceMean(d² as Pow(d, 2) or d·d); std = Sqrt(var + ε) (or Pow(·, 0.5));
/// n = d / std (or d · Reciprocal(std)); then optionally n · γ and + β, operands in either order, constants as
/// initializers or Constant nodes. Quantizing its inside (or γ and β) costs accuracy and stops ONNX Runtime's
/// LayerNormalization fusion, so the registry keeps these nodes fp32.
/// </summary>
internal static class LayerNormPattern
{
    public static IReadOnlyList<LayerNormMatch> Find(Graph graph, long? irVersion = null)
    {
        var constants = new GraphConstants(graph, irVersion);
        var readers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        var order = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            order[graph.Nodes[i]] = i;
            foreach (string input in graph.Nodes[i].Inputs.Where(s => s.Length > 0).Distinct())
            {
                if (!readers.TryGetValue(input, out List<Node>? list))
                {
                    readers[input] = list = new List<Node>();
                }

                list.Add(graph.Nodes[i]);
            }
        }

        var matches = new List<LayerNormMatch>();
        foreach (Node mean in graph.Nodes.Where(n => Is(n, "ReduceMean")))
        {
            if (Match(mean, readers, constants) is { } found)
            {
                List<Node> nodes = found.Nodes.OrderBy(n => order[n]).ToList();
                matches.Add(new LayerNormMatch(nodes.Select(n => n.DisplayName).ToList(), mean.Inputs[0], found.Output, found.Gamma, found.Beta, found.Epsilon));
            }
        }

        return matches;
    }

    private static (List<Node> Nodes, string Output, string? Gamma, string? Beta, float? Epsilon)? Match(
        Node mean, Dictionary<string, List<Node>> readers, GraphConstants constants)
    {
        string x = mean.Inputs[0];
        List<Node> Readers(string value) => readers.TryGetValue(value, out List<Node>? r) ? r : [];

        Node? sub = Readers(mean.Outputs[0]).FirstOrDefault(n => Is(n, "Sub") && n.Inputs[0] == x && n.Inputs[1] == mean.Outputs[0]);
        if (sub is null)
        {
            return null;
        }

        string d = sub.Outputs[0];
        Node? square = Readers(d).FirstOrDefault(n => (Is(n, "Pow") && n.Inputs[0] == d && Scalar(constants, n.Inputs[1]) == 2f)
            || (Is(n, "Mul") && n.Inputs[0] == d && n.Inputs[1] == d));
        Node? variance = square is null ? null : Readers(square.Outputs[0]).FirstOrDefault(n => Is(n, "ReduceMean"));
        Node? addEps = variance is null ? null : Readers(variance.Outputs[0]).FirstOrDefault(n => Is(n, "Add") && Other(n, variance.Outputs[0]) is { } e && constants.IsConstant(e));
        Node? sqrt = addEps is null ? null : Readers(addEps.Outputs[0]).FirstOrDefault(n => Is(n, "Sqrt")
            || (Is(n, "Pow") && n.Inputs[0] == addEps.Outputs[0] && Scalar(constants, n.Inputs[1]) == 0.5f));
        if (sqrt is null)
        {
            return null;
        }

        var nodes = new List<Node> { mean, sub, square!, variance!, addEps!, sqrt };
        string std = sqrt.Outputs[0];
        Node? normalise = Readers(d).FirstOrDefault(n => Is(n, "Div") && n.Inputs[0] == d && n.Inputs[1] == std);
        if (normalise is null)
        {
            Node? reciprocal = Readers(std).FirstOrDefault(n => Is(n, "Reciprocal"));
            normalise = reciprocal is null ? null : Readers(d).FirstOrDefault(n => Is(n, "Mul") && Other(n, d) == reciprocal.Outputs[0]);
            if (normalise is null)
            {
                return null;
            }

            nodes.Add(reciprocal!);
        }

        nodes.Add(normalise);
        string output = normalise.Outputs[0];
        string? gamma = null;
        string? beta = null;
        if (Readers(output) is [{ } scale] && Is(scale, "Mul") && Other(scale, output) is { } g && constants.IsConstant(g))
        {
            nodes.Add(scale);
            gamma = g;
            output = scale.Outputs[0];
        }

        if (Readers(output) is [{ } shift] && Is(shift, "Add") && Other(shift, output) is { } b && constants.IsConstant(b))
        {
            nodes.Add(shift);
            beta = b;
            output = shift.Outputs[0];
        }

        return (nodes, output, gamma, beta, Scalar(constants, Other(addEps!, variance!.Outputs[0])!));
    }

    private static bool Is(Node node, string op) => node.IsDefaultDomain && node.OpType == op && node.Outputs.Count > 0;

    /// <summary>The other input of a two-input node that reads <paramref name="value"/>, or null.</summary>
    private static string? Other(Node node, string value) =>
        node.Inputs.Count != 2 ? null : node.Inputs[0] == value ? node.Inputs[1] : node.Inputs[1] == value ? node.Inputs[0] : null;

    private static float? Scalar(GraphConstants constants, string name) =>
        constants.Find(name) is { ElementCount: 1 } t ? t.ElementType switch
        {
            ElementType.Float => t.AsReadOnlySpan<float>()[0],
            ElementType.Double => (float)t.AsReadOnlySpan<double>()[0],
            ElementType.Float16 => (float)t.AsReadOnlySpan<Half>()[0],
            _ => null,
        } : null;
}

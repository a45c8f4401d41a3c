using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Rewrites;

/// <summary>
/// Raises a model's default-domain opset, converting every node whose meaning changes on the way (main graph and
/// If/Loop/Scan bodies alike) so the model computes exactly what it computed before. Never changes objects the model
/// may share with another model: a converted node or graph is a new object put in the place of the old one.
/// </summary>
internal sealed class OpsetConverter
{
    private readonly long _from;
    private readonly long _to;
    private readonly long? _irVersion;
    private readonly NameTable _names;
    private readonly List<string> _converted = new();

    private OpsetConverter(OnnxModel model, long from, long to)
    {
        _from = from;
        _to = to;
        _irVersion = model.IrVersion;
        _names = new NameTable(model.Graph);
    }

    /// <summary>
    /// Sets the default-domain opset of <paramref name="model"/> to at least <paramref name="to"/> and the IR version to
    /// match, converting ops as needed. Returns the names of the nodes that were converted.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3002 for an op with no exact equivalent at <paramref name="to"/>.</exception>
    public static IReadOnlyList<string> Upgrade(OnnxModel model, long to)
    {
        long from = model.OpsetVersion() ?? 1;
        if (from >= to)
        {
            return [];
        }

        if (from < 6)
        {
            throw RewriteErrors.OpsetTooOld(from, to);
        }

        var converter = new OpsetConverter(model, from, to);
        if (converter.ConvertGraph(model.Graph, null) is { } converted)
        {
            model.Graph = converted;
        }

        SetVersions(model, to);
        return converter._converted;
    }

    private Graph? ConvertGraph(Graph graph, ValueFacts? outer)
    {
        var facts = new ValueFacts(graph, outer);
        var scope = new ConversionScope(_from, _to, facts, new GraphConstants(graph, _irVersion), GraphWalk.ReadNames(graph), _names);
        var nodes = new List<Node>(graph.Nodes.Count);
        bool changed = false;
        foreach (Node original in graph.Nodes)
        {
            Node node = WithConvertedSubgraphs(original, facts) ?? original;
            IReadOnlyList<Node>? replacement = OpConversions.Convert(node, scope);
            if (replacement is not null)
            {
                _converted.Add(original.DisplayName);
                nodes.AddRange(replacement);
            }
            else
            {
                nodes.Add(node);
            }

            changed |= replacement is not null || !ReferenceEquals(node, original);
        }

        if (!changed)
        {
            return null;
        }

        Graph copy = ModelCopy.WithoutNodes(graph);
        copy.Nodes.AddRange(nodes);
        copy.Initializers.AddRange(scope.AddedInitializers);
        return copy;
    }

    /// <summary>A copy of <paramref name="node"/> with converted bodies, or null when none of its bodies changed.</summary>
    private Node? WithConvertedSubgraphs(Node node, ValueFacts facts)
    {
        if (!GraphWalk.HasSubgraphs(node))
        {
            return null;
        }

        Node? copy = null;
        for (int i = 0; i < node.Attributes.Count; i++)
        {
            NodeAttribute attribute = node.Attributes[i];
            Graph? single = attribute.Graph is null ? null : ConvertGraph(attribute.Graph, facts);
            List<Graph?> many = attribute.Graphs.Select(g => ConvertGraph(g, facts)).ToList();
            if (single is null && many.All(g => g is null))
            {
                continue;
            }

            var replaced = new NodeAttribute
            {
                Name = attribute.Name,
                Type = attribute.Type,
                RefAttrName = attribute.RefAttrName,
                DocString = attribute.DocString,
                Graph = single ?? attribute.Graph,
            };
            for (int g = 0; g < many.Count; g++)
            {
                replaced.Graphs.Add(many[g] ?? attribute.Graphs[g]);
            }

            copy ??= ModelCopy.Clone(node);
            copy.Attributes.Replace(i, replaced);
        }

        return copy;
    }

    private static void SetVersions(OnnxModel model, long to)
    {
        int at = model.OpsetImports.FindIndex(i => i.IsDefaultDomain);
        if (at >= 0)
        {
            model.OpsetImports.Replace(at, model.OpsetImports[at] with { Version = to });
        }
        else
        {
            model.OpsetImports.Insert(0, new OpsetImport(string.Empty, to));
        }

        long ir = to >= 21 ? 10 : to >= 19 ? 9 : to >= 15 ? 8 : 7;
        if ((model.IrVersion ?? 0) < ir)
        {
            if ((model.IrVersion ?? 0) < 4)
            {
                // Before IR 4 every initializer had to be listed as an input too; from 4 on that makes it overridable.
                var initializers = new HashSet<string>(model.Graph.Initializers.Select(t => t.Name ?? string.Empty), StringComparer.Ordinal);
                model.Graph.Inputs.RemoveAll(i => initializers.Contains(i.Name));
            }

            model.IrVersion = ir;
        }
    }
}

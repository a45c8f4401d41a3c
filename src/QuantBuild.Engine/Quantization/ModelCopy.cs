using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Copies a model so the encoder can rewrite the copy's main graph. Lists of the model and main graph are new;
/// tensors, attributes and subgraphs are shared because the encoder never changes them.
/// </summary>
internal static class ModelCopy
{
    public static OnnxModel WithNewMainGraph(OnnxModel source)
    {
        var copy = new OnnxModel
        {
            IrVersion = source.IrVersion,
            ProducerName = source.ProducerName,
            ProducerVersion = source.ProducerVersion,
            Domain = source.Domain,
            ModelVersion = source.ModelVersion,
            DocString = source.DocString,
        };
        copy.OpsetImports.AddRange(source.OpsetImports);
        copy.MetadataProps.AddRange(source.MetadataProps);
        copy.Functions.AddRange(source.Functions);
        copy.TrainingInfo.AddRange(source.TrainingInfo);
        copy.Preserved = source.Preserved;

        copy.Graph = WithoutNodes(source.Graph);
        return copy;
    }

    /// <summary>A graph with <paramref name="g"/>'s own lists of everything but its nodes, which the caller writes.</summary>
    public static Graph WithoutNodes(Graph g)
    {
        var graph = new Graph { Name = g.Name, DocString = g.DocString };
        graph.Initializers.AddRange(g.Initializers);
        graph.SparseInitializers.AddRange(g.SparseInitializers);
        graph.Inputs.AddRange(g.Inputs);
        graph.Outputs.AddRange(g.Outputs);
        graph.ValueInfo.AddRange(g.ValueInfo);
        graph.QuantizationAnnotations.AddRange(g.QuantizationAnnotations);
        graph.MetadataProps.AddRange(g.MetadataProps);
        return graph;
    }

    /// <summary>
    /// A node with its own input and output lists, sharing attribute objects with <paramref name="node"/>, without the
    /// attributes named in <paramref name="drop"/>.
    /// </summary>
    public static Node Clone(Node node, params string[] drop)
    {
        var clone = new Node
        {
            Name = node.Name,
            OpType = node.OpType,
            Domain = node.Domain,
            Overload = node.Overload,
            DocString = node.DocString,
        };
        clone.Inputs.AddRange(node.Inputs);
        clone.Outputs.AddRange(node.Outputs);
        clone.Attributes.AddRange(node.Attributes.Where(a => Array.IndexOf(drop, a.Name) < 0));
        clone.MetadataProps.AddRange(node.MetadataProps);
        clone.Preserved = node.Preserved;
        return clone;
    }
}

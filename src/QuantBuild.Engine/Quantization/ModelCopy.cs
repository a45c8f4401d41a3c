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
        copy.Configurations.AddRange(source.Configurations);

        Graph g = source.Graph;
        var graph = new Graph { Name = g.Name, DocString = g.DocString };
        graph.Initializers.AddRange(g.Initializers);
        graph.SparseInitializers.AddRange(g.SparseInitializers);
        graph.Inputs.AddRange(g.Inputs);
        graph.Outputs.AddRange(g.Outputs);
        graph.ValueInfo.AddRange(g.ValueInfo);
        graph.QuantizationAnnotations.AddRange(g.QuantizationAnnotations);
        graph.MetadataProps.AddRange(g.MetadataProps);
        copy.Graph = graph;
        return copy;
    }

    /// <summary>A node with its own input and output lists, sharing attribute objects with <paramref name="node"/>.</summary>
    public static Node Clone(Node node)
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
        clone.Attributes.AddRange(node.Attributes);
        clone.MetadataProps.AddRange(node.MetadataProps);
        clone.DeviceConfigurations.AddRange(node.DeviceConfigurations);
        return clone;
    }
}

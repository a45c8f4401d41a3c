using QuantBuild.Abstractions.Ir;

namespace QuantBuild.PassKit;

/// <summary>
/// Copies of a model a pass can change without touching the original: every field of the model, its graphs (subgraph
/// bodies too) and its nodes — metadata, training info, functions, quantization annotations, opset imports, doc
/// strings, value_info, device configurations — in lists of their own. Tensor values, type information and functions
/// are shared: passes replace tensors, they never write into one.
/// </summary>
public static class ModelClone
{
    /// <summary>A copy of <paramref name="model"/> with graphs and nodes of its own.</summary>
    public static OnnxModel Copy(OnnxModel model) => WithConstants(model, new Dictionary<string, TensorValue>());

    /// <summary>
    /// A copy of <paramref name="model"/> in which the main graph's constants named in <paramref name="replaced"/> hold
    /// the given values, wherever they live (initializer or Constant node): a model to run with trial weights.
    /// </summary>
    public static OnnxModel WithConstants(OnnxModel model, IReadOnlyDictionary<string, TensorValue> replaced)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(replaced);
        return WithMainGraph(model, Copy(model.Graph, replaced));
    }

    /// <summary>A copy of every field of <paramref name="model"/> around <paramref name="graph"/> as its main graph.</summary>
    public static OnnxModel WithMainGraph(OnnxModel model, Graph graph)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        var copy = new OnnxModel
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            DocString = model.DocString,
            Graph = graph,
        };
        copy.OpsetImports.AddRange(model.OpsetImports);
        copy.MetadataProps.AddRange(model.MetadataProps);
        copy.Functions.AddRange(model.Functions);
        copy.TrainingInfo.AddRange(model.TrainingInfo);
        copy.Preserved = model.Preserved;
        return copy;
    }

    /// <summary>A copy of <paramref name="graph"/> with nodes (and their subgraphs) of its own.</summary>
    public static Graph Copy(Graph graph) => Copy(graph, new Dictionary<string, TensorValue>());

    /// <summary>
    /// A graph with every field of <paramref name="graph"/> in lists of its own but no nodes: for a caller that writes
    /// the nodes itself (an encoder, a pass rebuilding the graph node by node).
    /// </summary>
    public static Graph WithoutNodes(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var copy = new Graph { Name = graph.Name, DocString = graph.DocString };
        copy.Initializers.AddRange(graph.Initializers);
        copy.SparseInitializers.AddRange(graph.SparseInitializers);
        copy.Inputs.AddRange(graph.Inputs);
        copy.Outputs.AddRange(graph.Outputs);
        copy.ValueInfo.AddRange(graph.ValueInfo);
        copy.QuantizationAnnotations.AddRange(graph.QuantizationAnnotations);
        copy.MetadataProps.AddRange(graph.MetadataProps);
        return copy;
    }

    /// <summary>
    /// A copy of <paramref name="node"/> with input, output and attribute lists of its own. Attributes are copied too
    /// (subgraphs included) unless <paramref name="shareAttributes"/>, for callers that replace attributes rather than
    /// edit them.
    /// </summary>
    public static Node Copy(Node node, bool shareAttributes = false)
    {
        ArgumentNullException.ThrowIfNull(node);
        var copy = new Node { Name = node.Name, OpType = node.OpType, Domain = node.Domain, Overload = node.Overload, DocString = node.DocString };
        copy.Inputs.AddRange(node.Inputs);
        copy.Outputs.AddRange(node.Outputs);
        copy.Attributes.AddRange(shareAttributes ? node.Attributes : node.Attributes.Select(Copy));
        copy.MetadataProps.AddRange(node.MetadataProps);
        copy.Preserved = node.Preserved;
        return copy;
    }

    private static Graph Copy(Graph graph, IReadOnlyDictionary<string, TensorValue> replaced)
    {
        Graph copy = WithoutNodes(graph);
        foreach (Node node in graph.Nodes)
        {
            Node n = Copy(node);
            if (replaced.Count > 0 && n.IsDefaultDomain && n.OpType == "Constant" && n.Outputs.Count == 1 && replaced.TryGetValue(n.Outputs[0], out TensorValue? value))
            {
                n.Attributes.RemoveAll(a => a.Name.StartsWith("value", StringComparison.Ordinal));
                n.Attributes.Add(NodeAttribute.FromTensor("value", value));
            }

            copy.Nodes.Add(n);
        }

        for (int i = 0; i < copy.Initializers.Count; i++)
        {
            if (copy.Initializers[i].Name is { } name && replaced.TryGetValue(name, out TensorValue? r))
            {
                copy.Initializers.Replace(i, r);
            }
        }

        return copy;
    }

    private static NodeAttribute Copy(NodeAttribute a)
    {
        var copy = new NodeAttribute
        {
            Name = a.Name,
            Type = a.Type,
            RefAttrName = a.RefAttrName,
            DocString = a.DocString,
            Float = a.Float,
            Int = a.Int,
            String = a.String,
            Tensor = a.Tensor,
            Graph = a.Graph is null ? null : Copy(a.Graph),
            SparseTensor = a.SparseTensor,
            TypeInfo = a.TypeInfo,
        };
        copy.Floats.AddRange(a.Floats);
        copy.Ints.AddRange(a.Ints);
        copy.Strings.AddRange(a.Strings);
        copy.Tensors.AddRange(a.Tensors);
        copy.Graphs.AddRange(a.Graphs.Select(Copy));
        copy.SparseTensors.AddRange(a.SparseTensors);
        copy.TypeInfos.AddRange(a.TypeInfos);
        return copy;
    }
}

using QuantBuild.Onnx.Proto;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// Every TensorProto a model holds, wherever it sits (initializers, Constant values, subgraphs, functions,
/// training graphs, sparse tensors), in a fixed order so that external-data layouts are deterministic.
/// </summary>
internal static class TensorProtoWalker
{
    public static IEnumerable<TensorProto> All(ModelProto model)
    {
        var found = new List<TensorProto>();
        if (model.Graph is not null)
        {
            Graph(model.Graph, found);
        }

        foreach (TrainingInfoProto t in model.TrainingInfo)
        {
            if (t.Initialization is not null)
            {
                Graph(t.Initialization, found);
            }

            if (t.Algorithm is not null)
            {
                Graph(t.Algorithm, found);
            }
        }

        foreach (FunctionProto f in model.Functions)
        {
            foreach (AttributeProto a in f.AttributeProto)
            {
                Attribute(a, found);
            }

            foreach (NodeProto n in f.Node)
            {
                Node(n, found);
            }
        }

        return found;
    }

    private static void Graph(GraphProto graph, List<TensorProto> found)
    {
        found.AddRange(graph.Initializer);
        foreach (SparseTensorProto s in graph.SparseInitializer)
        {
            Sparse(s, found);
        }

        foreach (NodeProto n in graph.Node)
        {
            Node(n, found);
        }
    }

    private static void Node(NodeProto node, List<TensorProto> found)
    {
        foreach (AttributeProto a in node.Attribute)
        {
            Attribute(a, found);
        }
    }

    private static void Attribute(AttributeProto a, List<TensorProto> found)
    {
        if (a.T is not null)
        {
            found.Add(a.T);
        }

        found.AddRange(a.Tensors);
        if (a.SparseTensor is not null)
        {
            Sparse(a.SparseTensor, found);
        }

        foreach (SparseTensorProto s in a.SparseTensors)
        {
            Sparse(s, found);
        }

        if (a.G is not null)
        {
            Graph(a.G, found);
        }

        foreach (GraphProto g in a.Graphs)
        {
            Graph(g, found);
        }
    }

    private static void Sparse(SparseTensorProto s, List<TensorProto> found)
    {
        if (s.Values is not null)
        {
            found.Add(s.Values);
        }

        if (s.Indices is not null)
        {
            found.Add(s.Indices);
        }
    }
}

using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// The IR tensors a model holds where weights live: initializers and Constant/attribute values of the main graph and
/// of every subgraph (If/Loop/Scan bodies), in a fixed order.
/// </summary>
internal static class IrTensorWalker
{
    public static List<TensorValue> All(OnnxModel model)
    {
        var found = new List<TensorValue>();
        Graph(model.Graph, found);
        return found;
    }

    private static void Graph(Graph graph, List<TensorValue> found)
    {
        found.AddRange(graph.Initializers);
        foreach (SparseTensorValue s in graph.SparseInitializers)
        {
            found.Add(s.Values);
            found.Add(s.Indices);
        }

        foreach (Node node in graph.Nodes)
        {
            foreach (NodeAttribute a in node.Attributes)
            {
                if (a.Tensor is not null)
                {
                    found.Add(a.Tensor);
                }

                found.AddRange(a.Tensors);
                if (a.Graph is not null)
                {
                    Graph(a.Graph, found);
                }

                foreach (Graph g in a.Graphs)
                {
                    Graph(g, found);
                }
            }
        }
    }
}

using QuantBuild.Abstractions.Ir;
using QuantBuild.PassKit;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Copies a model so the encoder can rewrite the copy's main graph, through PassKit's <see cref="ModelClone"/> (the
/// one copy that keeps every field, shared with the plugins). Lists of the model and main graph are new; tensors,
/// attributes and subgraphs are shared because the encoder never changes them.
/// </summary>
internal static class ModelCopy
{
    public static OnnxModel WithNewMainGraph(OnnxModel source) => ModelClone.WithMainGraph(source, WithoutNodes(source.Graph));

    /// <summary>A graph with <paramref name="g"/>'s own lists of everything but its nodes, which the caller writes.</summary>
    public static Graph WithoutNodes(Graph g) => ModelClone.WithoutNodes(g);

    /// <summary>
    /// A node with its own input and output lists, sharing attribute objects with <paramref name="node"/>, without the
    /// attributes named in <paramref name="drop"/>.
    /// </summary>
    public static Node Clone(Node node, params string[] drop)
    {
        Node clone = ModelClone.Copy(node, shareAttributes: true);
        clone.Attributes.RemoveAll(a => Array.IndexOf(drop, a.Name) >= 0);
        return clone;
    }
}

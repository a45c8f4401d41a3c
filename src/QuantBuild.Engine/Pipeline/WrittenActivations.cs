using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Rewrites;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// The layers of a written model whose kernel quantizes its input at run time, read from the graph as written (the
/// manifest's <c>activations.dynamic</c>): every com.microsoft DynamicQuantizeMatMul and DynamicQuantizeLSTM, whether
/// the yaml, a recipe or fallback made it dynamic, in the main graph or inside If branches and Loop/Scan bodies.
/// </summary>
public static class WrittenActivations
{
    /// <summary>The names of the run-time-quantized nodes of <paramref name="graph"/>, in graph order.</summary>
    public static List<string> Dynamic(Graph graph) => GraphWalk.AllNodes(graph)
        .Where(n => n.Domain == "com.microsoft" && n.OpType is "DynamicQuantizeMatMul" or "DynamicQuantizeLSTM")
        .Select(n => n.DisplayName)
        .ToList();
}

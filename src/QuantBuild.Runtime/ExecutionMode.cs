namespace QuantBuild.Runtime;

/// <summary>Whether ONNX Runtime runs independent graph branches one after another or in parallel; ORT's own numbers.</summary>
public enum ExecutionMode
{
    /// <summary>One node at a time (each node still uses the intra-op threads).</summary>
    Sequential = 0,
    /// <summary>Independent branches at once, on the inter-op threads.</summary>
    Parallel = 1,
}

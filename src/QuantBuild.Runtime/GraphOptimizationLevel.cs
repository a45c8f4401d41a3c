namespace QuantBuild.Runtime;

/// <summary>How much ONNX Runtime rewrites the graph before running it; ORT's own numbers.</summary>
public enum GraphOptimizationLevel
{
    /// <summary>No graph rewrites.</summary>
    DisableAll = 0,
    /// <summary>Semantics-preserving rewrites such as constant folding and redundant node removal.</summary>
    Basic = 1,
    /// <summary>Basic plus fusions that are specific to ORT's kernels.</summary>
    Extended = 2,
    /// <summary>Everything, including layout changes; this is where QDQ pairs fuse into integer kernels.</summary>
    All = 99,
}

namespace QuantBuild.Engine.Config;

/// <summary>How many weight scales a tensor gets (yaml: <c>weights.granularity</c>).</summary>
public enum WeightGranularity
{
    /// <summary><c>per-channel</c>: one scale per output channel.</summary>
    PerChannel,

    /// <summary><c>per-tensor</c>: one scale for the whole tensor.</summary>
    PerTensor,

    /// <summary><c>block</c>: one scale per <c>block_size</c> consecutive weights along the input axis.</summary>
    Block,
}

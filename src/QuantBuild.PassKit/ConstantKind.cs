namespace QuantBuild.PassKit;

/// <summary>Where a constant tensor of a graph lives.</summary>
public enum ConstantKind
{
    /// <summary>A graph initializer (not also a graph input, which a caller could override).</summary>
    Initializer,

    /// <summary>The output of a <c>Constant</c> node, as Paddle, tf2onnx and some PyTorch exports store weights.</summary>
    ConstantNode,
}

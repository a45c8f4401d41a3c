namespace QuantBuild.Engine.Results;

/// <summary>How far one quantized layer's output is from fp32's on the same inputs.</summary>
/// <param name="Node">The layer's node name.</param>
/// <param name="OpType">Its operator.</param>
/// <param name="SqnrDb">SQNR of the quantized model's output of this layer against the fp32 model's, in dB; lower is worse;
/// +∞ when the outputs are equal; null when no probed sample ran the layer (an If branch they never take, a loop with no
/// iteration), so there is nothing to compare.</param>
public sealed record LayerError(string Node, string OpType, double? SqnrDb);

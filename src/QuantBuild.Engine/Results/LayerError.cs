namespace QuantBuild.Engine.Results;

/// <summary>How far one quantized layer's output is from fp32's on the same inputs.</summary>
/// <param name="Node">The layer's node name.</param>
/// <param name="OpType">Its operator.</param>
/// <param name="SqnrDb">SQNR of the quantized model's output of this layer against the fp32 model's, in dB; lower is worse.</param>
public sealed record LayerError(string Node, string OpType, double SqnrDb);

namespace QuantBuild.Engine.Analysis;

/// <summary>One model variant scored against fp32 on the analysis data.</summary>
/// <param name="Value">The gate metric.</param>
/// <param name="Drop">How much worse than fp32, in the metric's units (negative when better).</param>
/// <param name="SqnrDb">Output SQNR against fp32 in dB.</param>
/// <param name="Agreement">Percent of samples whose argmax matches fp32's.</param>
/// <param name="Passed">True when the gate (if any) passes.</param>
/// <param name="Bytes">Size of the serialized model.</param>
public sealed record TrialResult(double Value, double Drop, double SqnrDb, double Agreement, bool Passed, long Bytes);

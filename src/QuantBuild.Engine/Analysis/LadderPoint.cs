namespace QuantBuild.Engine.Analysis;

/// <summary>One rung of the precision ladder: every float weight keeps <paramref name="MantissaBits"/> mantissa bits.</summary>
/// <param name="MantissaBits">Mantissa bits kept (23 is fp32 itself).</param>
/// <param name="Value">The gate metric.</param>
/// <param name="Drop">Drop against fp32 in the metric's units.</param>
/// <param name="SqnrDb">Output SQNR against fp32.</param>
public sealed record LadderPoint(int MantissaBits, double Value, double Drop, double SqnrDb);

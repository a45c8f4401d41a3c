namespace QuantBuild.Engine.Fallback;

/// <summary>One trial of the fallback search and what it decided.</summary>
/// <param name="Trial">1-based trial number.</param>
/// <param name="Action">measure, keep, give back, keep (needed), skip (size), or size.</param>
/// <param name="Layer">The layer the step is about, or null for the whole model.</param>
/// <param name="Precision">The precision the layer was tried at (fp32, 8-bit, 4-bit).</param>
/// <param name="Value">The gate metric after the step.</param>
/// <param name="Drop">The drop against fp32 after the step.</param>
/// <param name="Passed">Whether the gate passed after the step.</param>
/// <param name="BitsPerWeight">Average nominal bits per quantizable weight of the model tried.</param>
/// <param name="Bytes">Serialized size of the model tried.</param>
/// <param name="Why">One line for the report.</param>
public sealed record FallbackStep(int Trial, string Action, string? Layer, string? Precision, double Value, double Drop, bool Passed, double BitsPerWeight, long Bytes, string Why);

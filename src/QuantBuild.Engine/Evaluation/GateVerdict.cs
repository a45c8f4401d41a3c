namespace QuantBuild.Engine.Evaluation;

/// <summary>What the accuracy gate decided for one target, with the numbers behind it.</summary>
/// <param name="Passed">True when the quantized model may ship.</param>
/// <param name="Metric">The metric's name.</param>
/// <param name="Unit">The metric's unit.</param>
/// <param name="Fp32">The fp32 model's value (the metric's ideal for comparisons with fp32 itself).</param>
/// <param name="Quantized">The quantized model's value.</param>
/// <param name="Drop">How much worse the quantized model is, in the metric's units (negative when better).</param>
/// <param name="Message">One line for people: the numbers and, on failure, which bound was broken.</param>
public sealed record GateVerdict(bool Passed, string Metric, string Unit, double Fp32, double Quantized, double Drop, string Message)
{
    /// <summary>The gate setting the model missed ("max_drop" or "min"), so the error points at that yaml line; null otherwise.</summary>
    public string? FailedSetting { get; init; }
}

namespace QuantBuild.Engine.Pipeline;

/// <summary>How long one stage took, so a slowdown is visible in every run summary.</summary>
/// <param name="Stage">The stage: load, calibrate, encode, evaluate, ...</param>
/// <param name="Seconds">Wall time.</param>
public sealed record StageTiming(string Stage, double Seconds);

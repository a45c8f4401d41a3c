namespace QuantBuild.Engine.Results;

/// <summary>How long one stage took and how much memory it peaked at, so a slowdown or a blow-up is visible in every run summary.</summary>
/// <param name="Stage">The stage: load, calibrate, encode, evaluate, ...</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="PeakRssBytes">The process's peak resident memory during the stage (see Pipeline.PeakMemory: process-wide while targets run in parallel), or null when not measured.</param>
public sealed record StageTiming(string Stage, double Seconds, long? PeakRssBytes = null);

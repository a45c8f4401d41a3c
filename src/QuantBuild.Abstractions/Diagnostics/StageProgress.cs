namespace QuantBuild.Abstractions.Diagnostics;

/// <summary>How far a long-running stage has got, for progress bars and CI log lines.</summary>
/// <param name="Stage">The stage, for example <c>calibrate</c> or <c>evaluate</c>, plus what it works on.</param>
/// <param name="Done">Units finished (samples, layers).</param>
/// <param name="Total">Units in all, or 0 when unknown.</param>
public sealed record StageProgress(string Stage, long Done, long Total);

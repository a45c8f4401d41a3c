using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Sessions;

/// <summary>Progress relayed under another stage name, so one sink can tell "calibrate x64" from "evaluate x64".</summary>
internal static class TaggedProgress
{
    /// <summary>Reports to <paramref name="progress"/> with the stage replaced by <paramref name="stage"/>; null stays null.</summary>
    public static IProgress<StageProgress>? Tagged(IProgress<StageProgress>? progress, string stage) =>
        progress is null ? null : new Relay(p => progress.Report(p with { Stage = stage }));

    private sealed class Relay(Action<StageProgress> report) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => report(value);
    }
}

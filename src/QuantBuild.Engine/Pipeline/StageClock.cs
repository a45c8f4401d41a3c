using System.Diagnostics;
using QuantBuild.Engine.Results;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// Times a sequence of stages: each <see cref="Lap"/> closes the stage that just ran with its wall time and peak
/// resident memory. The peak is the process's (see <see cref="PeakMemory"/>: the kernel's mark when the stage raised it, else
/// the largest sampled resident size since the last lap): while
/// targets run in parallel it covers every target's work since the last lap of any of them, not this target's alone.
/// </summary>
internal sealed class StageClock
{
    private readonly List<StageTiming> _stages = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The stages closed so far.</summary>
    public IReadOnlyList<StageTiming> Stages => _stages;

    /// <summary>Closes stage <paramref name="name"/>; with <paramref name="release"/>, first returns what it left behind to the OS.</summary>
    public StageTiming Lap(string name, bool release = true)
    {
        if (release)
        {
            ReleaseStageMemory();
        }

        var timing = new StageTiming(name, _clock.Elapsed.TotalSeconds, PeakMemory.TakePeak());
        _stages.Add(timing);
        _clock.Restart();
        return timing;
    }

    /// <summary>Starts the next stage's time now, dropping what passed since the last lap (time spent outside any stage).</summary>
    public void Restart() => _clock.Restart();

    /// <summary>
    /// What a finished stage leaves behind goes back to the OS before the next one: weights it read stay in the OS
    /// cache rather than in this process, the managed arrays it dropped (an encoded model's weights) are decommitted,
    /// and memory ONNX Runtime freed leaves the C allocator's free lists.
    /// </summary>
    private static void ReleaseStageMemory()
    {
        MappedWeights.ReleaseResidentPages();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        OrtMemory.ReleaseFreed();
    }
}

using System.Runtime.InteropServices;
using QuantBuild.Engine.Pipeline;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// Per-stage peak RSS leaves the process's own high-water mark alone (so <c>/usr/bin/time -v</c> and <c>ru_maxrss</c>
/// report the run's true peak), and a stage that stays below the mark still reports what it held, from the sampler.
/// Runs alone: other tests allocating or freeing hundreds of MB at the same time would move the process's RSS under it.
/// </summary>
[Collection(nameof(PeakMemoryTests))]
public sealed class PeakMemoryTests
{
    private const long Block = 256L << 20;

    [Fact]
    public void A_stage_peak_does_not_reset_the_process_mark_and_a_later_smaller_stage_is_sampled()
    {
        if (PeakMemory.ProcessPeak() is null)
        {
            return; // Not Linux: the OS's peak working set is all there is, and nothing is reset.
        }

        PeakMemory.TakePeak();
        long before = PeakMemory.Resident()!.Value;
        // Held for several sampling intervals: when earlier tests already set a higher mark, this stage is sampled.
        Touch(Block, PeakMemory.SampleInterval * 6);
        long first = PeakMemory.TakePeak();
        Assert.True(first >= before + Block * 9 / 10, $"first stage {first >> 20} MiB, resident before {before >> 20} MiB");

        // The mark survives the lap: what the kernel reports at exit covers every stage, not the last one.
        Assert.True(PeakMemory.ProcessPeak() >= first, $"process mark {PeakMemory.ProcessPeak() >> 20} MiB < stage peak {first >> 20} MiB");

        // A smaller stage under the mark: held long enough for the sampler, then freed before the lap.
        long resident = PeakMemory.Resident()!.Value;
        Touch(Block / 2, PeakMemory.SampleInterval * 6);
        long second = PeakMemory.TakePeak();
        Assert.True(second >= resident + Block / 2 * 8 / 10, $"second stage {second >> 20} MiB, resident before it {resident >> 20} MiB");
        Assert.True(PeakMemory.ProcessPeak() >= second);
    }

    private static void Touch(long bytes, TimeSpan hold)
    {
        IntPtr p = Marshal.AllocHGlobal((nint)bytes);
        try
        {
            for (long i = 0; i < bytes; i += 4096)
            {
                Marshal.WriteByte(p, (int)i, 1);
            }

            Thread.Sleep(hold);
        }
        finally
        {
            Marshal.FreeHGlobal(p);
        }
    }
}

/// <summary>Keeps <see cref="PeakMemoryTests"/> out of the parallel run.</summary>
[CollectionDefinition(nameof(PeakMemoryTests), DisableParallelization = true)]
public sealed class PeakMemoryCollection
{
}

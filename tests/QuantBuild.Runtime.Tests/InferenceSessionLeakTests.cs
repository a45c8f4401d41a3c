using System.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Native;
using QuantBuild.Runtime.Tests.Support;
using Xunit.Abstractions;

namespace QuantBuild.Runtime.Tests;

/// <summary>Calibration and evaluation run a model thousands of times; a per-run leak would end a long build.</summary>
[Collection(SerialCollection.Name)]
public sealed class InferenceSessionLeakTests(ITestOutputHelper output)
{
    [Fact]
    public void Ten_thousand_runs_release_every_native_value_and_keep_memory_flat()
    {
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, 1, 4096)
            .Output("y", ElementType.Float, 1, 4096)
            .Output("s", ElementType.Float, 1, 1)
            .Node("Relu", ["x"], ["y"])
            .Node("ReduceSum", ["y"], ["s"])
            .ToBytes();
        using var session = new InferenceSession(model, new SessionOptions { IntraOpNumThreads = 1 });
        var inputs = new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Reference.Values(4096, seed: 71), 1, 4096) };
        // Warm-up lets ORT's arena and the GC's gen0 budget reach their steady size (measured: ~20-28 MB, then flat).
        for (int i = 0; i < 5_000; i++)
        {
            session.Run(inputs);
        }

        long handlesBefore = OrtHandle.LiveCount;
        long memoryBefore = SettledMemory();
        for (int i = 0; i < 10_000; i++)
        {
            session.Run(inputs);
        }

        long handlesAfter = OrtHandle.LiveCount;
        long growth = SettledMemory() - memoryBefore;
        output.WriteLine($"10,000 runs: private memory {growth / 1024:+#;-#;0} KB, native handles {handlesAfter - handlesBefore:+#;-#;0}");

        // Other tests may open sessions in parallel, so allow their handles but not one per run.
        Assert.True(handlesAfter - handlesBefore < 100, $"{handlesAfter - handlesBefore} native handles outlived their runs");
        // Each run returns 16 KB; leaking it (or ORT's copy) would be 160 MB. Steady-state noise measured under 10 MB.
        Assert.True(growth < 48 * 1024 * 1024, $"process memory grew by {growth / 1024} KB over 10,000 runs");
    }

    private static long SettledMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.PrivateMemorySize64;
    }
}

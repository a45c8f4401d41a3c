using System.Diagnostics;

namespace QuantBuild.Cli.Tests.Commands;

/// <summary>
/// Issue 15: with a capped .NET heap, running out of memory once ended in a bare "Out of memory." with no code and
/// nothing written. Now each target that runs out fails with QB6030, the report is still written, and the exit is 1.
/// Out of process, because the cap is a runtime setting of the whole process.
/// </summary>
public class OutOfMemoryTests
{
    [Fact]
    public async Task A_run_under_a_16_MB_heap_fails_its_targets_with_QB6030_and_still_writes_the_report()
    {
        using var ws = new SampleWorkspace("  x64:\n    device: cpu-x64-vnni\n");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "QuantBuild.Cli.dll"), "run", "-c", ws.ConfigPath, "--no-cache" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_GCHeapHardLimit"] = "0x1000000";
        using Process cli = Process.Start(start)!;
        Task<string> stderr = cli.StandardError.ReadToEndAsync();
        Task<string> stdout = cli.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await cli.WaitForExitAsync(timeout.Token);
        string errors = await stderr;
        await stdout;

        Assert.Equal(ExitCodes.Error, cli.ExitCode);
        Assert.Contains("error QB6030: Ran out of memory", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("QB0001", errors, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(ws.Output, "quantbuild-report.md")));
        Assert.False(File.Exists(Path.Combine(ws.Output, "model.x64.onnx")));
    }
}

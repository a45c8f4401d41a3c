namespace QuantBuild.Cli.Tests.Commands;

/// <summary>A failed gate points at the setting that failed, so an IDE opens the line to change.</summary>
public sealed class GateLocationTests
{
    [Fact]
    public void A_missed_floor_is_reported_at_the_min_line_not_at_max_drop()
    {
        // Lines: 11 gate, 12 max_drop (met: int8 is within 5 points), 13 min (missed: no model reaches 99.9 %).
        using var ws = new SampleWorkspace("  x64:\n    device: cpu-x64-vnni\n", gateYaml: "gate:\n  max_drop: 5\n  min: 99.9\n");

        var (code, _, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "--no-cache");

        Assert.Equal(ExitCodes.GateFailed, code);
        Assert.Contains($"{ws.ConfigPath}(13,3): error QB4000:", stderr);
        Assert.Contains("below the floor min 99.90 %", stderr);
    }
}

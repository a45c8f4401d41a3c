using Microsoft.Build.Framework;

namespace QuantBuild.MSBuild;

/// <summary>What every QuantBuild task shares: the tool it runs out of process, the yaml it reads, and cancellation.</summary>
public abstract class QuantBuildToolTask : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The dotnet host to run the tool with.</summary>
    public string DotnetHost { get; set; } = "dotnet";

    /// <summary>QuantBuild.Cli.dll.</summary>
    [Required]
    public string ToolPath { get; set; } = string.Empty;

    /// <summary>The quantize.yaml.</summary>
    [Required]
    public string ConfigFile { get; set; } = string.Empty;

    /// <summary>Cancelled when MSBuild cancels the build (Ctrl+C): the tool process is stopped.</summary>
    protected CancellationToken Cancellation => _cancel.Token;

    /// <inheritdoc />
    public void Cancel() => _cancel.Cancel();

    /// <summary>The tool process for this task's host and tool path.</summary>
    private protected ToolProcess Tool() => new(DotnetHost, ToolPath);
}

namespace QuantBuild.MSBuild;

/// <summary>The tool could not be run at all (QB5000): logged as an MSBuild error with its fix.</summary>
internal sealed class ToolException(string message, string fix) : Exception(message)
{
    public string Fix { get; } = fix;
}

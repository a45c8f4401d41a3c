using QuantBuild.Abstractions.Passes;
using Serilog;

namespace QuantBuild.Engine.Plugins;

/// <summary>A pass's messages into the run's Serilog logger, tagged with the target and the pass.</summary>
internal sealed class PassLogger(ILogger log, string target, string pass) : IPassLogger
{
    public void Debug(string message) => log.Debug("{Target} {Pass}: {Message}", target, pass, message);

    public void Information(string message) => log.Information("{Target} {Pass}: {Message}", target, pass, message);

    public void Warning(string message) => log.Warning("{Target} {Pass}: {Message}", target, pass, message);
}

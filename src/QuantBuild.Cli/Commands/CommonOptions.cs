using System.CommandLine;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;
using Serilog;
using Serilog.Events;

namespace QuantBuild.Cli.Commands;

/// <summary>Options and setup that several verbs share.</summary>
public static class CommonOptions
{
    /// <summary><c>-c/--config</c>, defaulting to ./quantize.yaml.</summary>
    public static Option<string> Config() => new("--config", "-c")
    {
        Description = "The quantize.yaml to read.",
        DefaultValueFactory = _ => QuantizeConfigLoader.DefaultFileName,
    };

    /// <summary><c>-t/--target</c>, repeatable.</summary>
    public static Option<string[]> Targets() => new("--target", "-t")
    {
        Description = "Only this target (repeat for several); default all.",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary><c>--memory-budget</c>: how much memory the run may use (2GB, 512MB); default half the machine's.</summary>
    public static Option<string?> MemoryBudget() => new("--memory-budget")
    {
        Description = "Memory the run may use, e.g. 2GB or 512MB (default: half of the machine's available memory). Batch sizes the yaml does not fix are derived from it.",
    };

    /// <summary>The parsed budget, or null for the default; QB1030 (before any model work) when it is not a sensible size.</summary>
    public static Engine.Sessions.MemoryBudget? ParseBudget(string? text) => text is null ? null : Engine.Sessions.MemoryBudget.Parse(text);

    /// <summary>Loads and validates the config. Pass names are checked against the plugins that are available.</summary>
    public static QuantizeConfig LoadConfig(string path)
    {
        QuantizeConfig config = LoadConfig(path, out PluginHost? plugins);
        plugins?.Dispose();
        return config;
    }

    /// <summary>
    /// Loads and validates the config and hands back the plugins loaded to check its pass names (null when no target
    /// has a recipe), so a run uses them instead of loading every plugin a second time. The caller disposes them.
    /// </summary>
    public static QuantizeConfig LoadConfig(string path, out PluginHost? plugins)
    {
        plugins = null;
        string full = Path.GetFullPath(path);
        // A first read without pass checks finds the plugins; recipes are then checked against the passes they provide.
        QuantizeConfig first = QuantizeConfigLoader.Load(full, new ConfigValidationOptions { KnownPasses = null });
        if (!first.Targets.Any(t => t.Recipe.Count > 0))
        {
            return first;
        }

        PluginHost host = PluginHost.Load(first);
        try
        {
            // A plugin that failed to load would make its passes look unknown (QB1009) and stop every target; leave the
            // names to the run instead, which fails only the targets needing that plugin, with the plugin's own QB20xx code.
            QuantizeConfig config = host.Failures.Count > 0 ? first : QuantizeConfigLoader.Load(full, new ConfigValidationOptions { KnownPasses = host.KnownPasses });
            plugins = host;
            return config;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Log lines to stderr; the terminal output stays on stdout.</summary>
    public static Serilog.Core.Logger Logger(CliContext context) => new LoggerConfiguration()
        .MinimumLevel.Information()
        // In a terminal the progress bars and the summary say what the info lines would; keep only warnings there.
        .WriteTo.Sink(new TextWriterSink(context.Error), context.Interactive ? LogEventLevel.Warning : LogEventLevel.Information)
        .CreateLogger();
}

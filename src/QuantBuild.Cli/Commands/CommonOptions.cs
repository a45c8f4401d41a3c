using System.CommandLine;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;

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
    /// Loads and validates the config and hands back the plugins loaded to check its pass, metric and data reader names
    /// (null when it names none), so a run uses them instead of loading every plugin a second time. The caller disposes them.
    /// </summary>
    public static QuantizeConfig LoadConfig(string path, out PluginHost? plugins)
    {
        PluginHost? host = null;
        var options = new ConfigValidationOptions
        {
            // One validation pass: the plugins load as soon as 'plugins' is read, so unknown passes and bad pass options
            // are reported with every other error. A plugin that failed to load would make its passes look unknown
            // (QB1009) and stop every target; then names are left to the run, which fails only the targets needing
            // that plugin, with the plugin's own QB20xx code.
            PassesFor = (references, folder) =>
            {
                host ??= PluginHost.Load(references, folder);
                return host.Failures.Count > 0 ? null : host.KnownPasses;
            },
            // The same host answers for plugin metrics and data readers: the plugins load once per validation.
            ExtensionsFor = (references, folder) =>
            {
                host ??= PluginHost.Load(references, folder);
                return host.Failures.Count > 0 ? null : host.KnownExtensions;
            },
        };
        try
        {
            QuantizeConfig config = QuantizeConfigLoader.Load(Path.GetFullPath(path), options);
            plugins = host;
            return config;
        }
        catch
        {
            host?.Dispose();
            throw;
        }
    }

    /// <summary>Log lines to stderr at the chosen verbosity (and the --log file); the terminal output stays on stdout.</summary>
    public static Serilog.Core.Logger Logger(CliContext context) => GlobalOptions.Logger(context);
}

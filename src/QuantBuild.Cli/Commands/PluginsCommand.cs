using System.CommandLine;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;
using Spectre.Console;

namespace QuantBuild.Cli.Commands;

/// <summary>
/// <c>quantbuild plugins list [-c quantize.yaml] [--json]</c>: every plugin a run would load (first-party ones plus those
/// the yaml names), its passes, version, contract version, path, and the error when it does not load. Exits 1 when any
/// plugin fails to load, so CI can check a plugin setup without running a quantization.
/// </summary>
public static class PluginsCommand
{
    /// <summary>Builds the verb and its <c>list</c> subcommand.</summary>
    public static Command Create(CliContext context)
    {
        var config = CommonOptions.Config();
        var json = new Option<bool>("--json") { Description = "Print the plugins as JSON on stdout." };
        var list = new Command("list", "List the plugins a run loads, their passes, metrics and data readers, versions and any load error.") { config, json };
        list.SetAction(parse =>
        {
            string path = Path.GetFullPath(parse.GetValue(config)!);
            bool named = parse.GetResult(config) is { Implicit: false };
            // Without a yaml (and none asked for) only the first-party plugins are listed.
            QuantizeConfig? loaded = named || File.Exists(path) ? QuantizeConfigLoader.Load(path, new ConfigValidationOptions { KnownPasses = null }) : null;
            using PluginHost host = loaded is null ? PluginHost.Load([], Directory.GetCurrentDirectory()) : PluginHost.Load(loaded);
            var listing = new
            {
                ConfigPath = loaded?.ConfigPath,
                FirstPartyDirectory = host.Options.FirstPartyDirectory,
                ContractVersion = Abstractions.Passes.PluginContract.Version.ToString(),
                Plugins = host.Plugins,
            };
            if (parse.GetValue(json))
            {
                JsonOutput.Write(context.Out, listing);
            }
            else
            {
                Render(context, listing.Plugins, listing.ContractVersion);
            }

            return host.Failures.Count > 0 ? ExitCodes.Error : ExitCodes.Ok;
        });
        return new Command("plugins", "Inspect the quantizer plugins.") { list };
    }

    private static void Render(CliContext context, IReadOnlyList<PluginInfo> plugins, string contract)
    {
        IAnsiConsole console = context.Console;
        if (plugins.Count == 0)
        {
            console.MarkupLine(Markup.Escape($"No plugins (this QuantBuild's contract is {contract}; none are shipped in its plugins/ folder and the yaml names none)."));
            return;
        }

        var table = new Table().Border(TableBorder.Simple).AddColumns("plugin", "id", "codes", "version", "contract", "source", "passes", "metrics, readers", "path");
        foreach (PluginInfo p in plugins)
        {
            string passes = p.Loaded ? string.Join(", ", p.Passes.Select(x => x.Name)) : $"[red]{Markup.Escape(p.ErrorCode!)}[/]";
            // Metrics and readers as quantize.yaml names them (id/name); the code block as the codes it owns.
            string extensions = Markup.Escape(string.Join(", ", p.Metrics.Concat(p.Readers)));
            string codes = p.CodeBlock is int block ? PluginCodes.Range(block) : "-";
            table.AddRow(Markup.Escape(p.Name), Markup.Escape(p.Id), codes, Markup.Escape(p.Version ?? "?"), Markup.Escape(p.ContractVersion ?? "?"),
                p.Source.ToString().ToLowerInvariant(), passes, extensions, Markup.Escape(p.Path));
        }

        console.Write(table);
        foreach (PluginInfo p in plugins.Where(p => !p.Loaded))
        {
            context.Error.WriteLine(p.Error);
        }
    }
}

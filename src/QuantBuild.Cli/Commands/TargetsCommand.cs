using System.CommandLine;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;
using Spectre.Console;

namespace QuantBuild.Cli.Commands;

/// <summary>
/// <c>quantbuild targets [-c quantize.yaml] [--json]</c>: the config's targets with the runtime identifiers their device
/// serves. The MSBuild task asks this to pick the targets for a publish's RuntimeIdentifier.
/// </summary>
public static class TargetsCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliContext context)
    {
        var config = CommonOptions.Config();
        var json = new Option<bool>("--json") { Description = "Print the targets as JSON on stdout." };
        var command = new Command("targets", "List the config's targets, their device profiles and the .NET runtime identifiers each serves.")
        {
            config, json,
        };
        command.SetAction(parse =>
        {
            QuantizeConfig loaded = CommonOptions.LoadConfig(parse.GetValue(config)!);
            var listing = new
            {
                ConfigPath = loaded.ConfigPath,
                ModelPath = loaded.ModelPath,
                OutputDirectory = loaded.OutputDirectory,
                // Files a run reads, so a build can tell whether anything changed without asking the engine.
                Inputs = Inputs(loaded),
                Targets = loaded.Targets.Select(t => new
                {
                    t.Name,
                    Device = t.Device.Name,
                    RuntimeIdentifiers = t.Device.Deployment.RuntimeIdentifiers,
                    t.OutputPath,
                    t.Location.Line,
                }).ToList(),
            };
            if (parse.GetValue(json))
            {
                JsonOutput.Write(context.Out, listing);
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("target", "device", "runtime identifiers", "output");
            foreach (var t in listing.Targets)
            {
                table.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Device), Markup.Escape(string.Join(", ", t.RuntimeIdentifiers)), Markup.Escape(t.OutputPath));
            }

            context.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static List<string> Inputs(QuantizeConfig config)
    {
        var files = new List<string> { config.ConfigPath, config.ModelPath };
        foreach (DataSourceConfig source in new[] { config.Calibration.Data, config.Evaluation?.Data }.OfType<DataSourceConfig>())
        {
            files.AddRange(new[] { source.Path }.Concat(source.Inputs.Values).OfType<string>());
        }

        if (config.Evaluation?.LabelsPath is { } labels)
        {
            files.Add(labels);
        }

        if (config.Evaluation?.DictionaryPath is { } dictionary)
        {
            files.Add(dictionary);
        }

        IEnumerable<string> data = files.SelectMany(f => Directory.Exists(f) ? Directory.EnumerateFiles(f, "*", SearchOption.AllDirectories) : new[] { f });
        return data.Concat(PluginCode(config)).Distinct(StringComparer.Ordinal).ToList();
    }

    // A rebuilt plugin (or one of its dependencies) must make the build re-run the tool, whose cache key hashes the same files.
    private static IEnumerable<string> PluginCode(QuantizeConfig config)
    {
        if (!config.Targets.Any(t => t.Recipe.Count > 0))
        {
            return [];
        }

        string firstParty = PluginHostOptions.Default.FirstPartyDirectory;
        IEnumerable<string> folders = Directory.Exists(firstParty) ? Directory.GetDirectories(firstParty).Order(StringComparer.Ordinal) : [];
        folders = folders.Concat(config.Plugins.Select(p => p.Path).OfType<string>().Select(p => File.Exists(p) ? Path.GetDirectoryName(p)! : p));
        return folders.SelectMany(PluginFiles.InFolder);
    }
}

using System.CommandLine;
using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Sessions;
using Serilog;
using Spectre.Console;

namespace QuantBuild.Cli.Commands;

/// <summary><c>quantbuild run [-c quantize.yaml] [-t TARGET]... [-o OUTDIR] [--parallel N] [--json]</c>: quantize, evaluate and gate every target.</summary>
public static class RunCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliContext context)
    {
        var config = CommonOptions.Config();
        var targets = CommonOptions.Targets();
        var output = new Option<string?>("--output", "-o") { Description = "Write outputs here instead of the yaml's output folder." };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary on stdout (logs go to stderr)." };
        var noCache = new Option<bool>("--no-cache") { Description = "Quantize every target even when the result cache holds it (the result is still stored)." };
        var cacheDir = new Option<string?>("--cache") { Description = "The result cache folder (default $QUANTBUILD_CACHE or ~/.cache/quantbuild/results)." };
        var noRemote = CacheCommand.NoRemoteOption();
        var memoryBudget = CommonOptions.MemoryBudget();
        var parallel = new Option<int?>("--parallel")
        {
            Description = "Quantize at most N targets at once (1: one after another). Default: as many as the memory budget fits, up to the processor count; the output is the same either way.",
        };
        parallel.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--parallel must be at least 1 (1 runs the targets one after another).");
            }
        });
        var command = new Command("run", "Quantize the model for each target, evaluate it against fp32, gate it, and write model, manifest and report.")
        {
            config, targets, output, json, noCache, cacheDir, noRemote, memoryBudget, parallel,
        };
        command.SetAction(parse =>
        {
            MemoryBudget? budget = CommonOptions.ParseBudget(parse.GetValue(memoryBudget));
            QuantizeConfig loaded = CommonOptions.LoadConfig(parse.GetValue(config)!, out PluginHost? plugins);
            using PluginHost? ownedPlugins = plugins;
            bool asJson = parse.GetValue(json);
            using Serilog.Core.Logger log = CommonOptions.Logger(context);
            var pipeline = new QuantizePipeline(loaded, log, plugins);
            ResultCache cache = CacheCommand.Open(parse.GetValue(cacheDir), loaded, log, useRemote: !parse.GetValue(noRemote));
            var options = new PipelineOptions
            {
                Targets = parse.GetValue(targets) ?? Array.Empty<string>(),
                OutputDirectory = parse.GetValue(output),
                Cache = cache,
                ReadCache = !parse.GetValue(noCache),
                MemoryBudget = budget,
                MaxParallelTargets = parse.GetValue(parallel),
            };
            RunResult result;
            try
            {
                result = context.ShowsProgressBars && !asJson
                    ? SpectreProgress.Run(context.Console, progress => pipeline.Run(options with { Progress = progress }))
                    : pipeline.Run(options with { Progress = new ConsoleProgress(context.ProgressWriter) });
            }
            finally
            {
                // Uploads run behind the build; the process must not end under them (each failure is a QB5102 warning).
                cache.Complete(CacheCommand.UploadWait);
            }

            if (asJson)
            {
                JsonOutput.Write(context.Out, result);
            }
            else
            {
                Summarise(context.Console, result);
            }

            foreach (TargetResult t in result.Targets.Where(t => t.Error is not null))
            {
                context.Error.WriteLine(t.Error);
            }

            return ExitCode(result);
        });
        return command;
    }

    /// <summary>1 when any target hit an error, else 3 when any failed its gate, else 0.</summary>
    public static int ExitCode(RunResult result) =>
        result.Targets.Any(t => t.Status == TargetStatus.Error) ? ExitCodes.Error
        : result.Targets.Any(t => t.Status == TargetStatus.GateFailed) ? ExitCodes.GateFailed
        : ExitCodes.Ok;

    /// <summary>
    /// The summary table people read at the end of run and eval. It fits 80 columns for target names up to 13 characters
    /// without breaking a word: the device goes on each target's path line, the metric's name above the table.
    /// </summary>
    public static void Summarise(IAnsiConsole console, RunResult run)
    {
        if (run.Targets.FirstOrDefault(t => t.Metric is not null)?.Metric is { } metric)
        {
            console.MarkupLine($"[grey]metric:[/] {Markup.Escape(metric)}");
        }

        var table = new Table().Border(TableBorder.None).ShowHeaders();
        foreach (string header in new[] { "target", "verdict", "fp32", "quantized", "agree", "size", "time" })
        {
            table.AddColumn(new TableColumn(header).Padding(0, 0, 2, 0).NoWrap());
        }

        foreach (TargetResult t in run.Targets)
        {
            string verdict = t.Status switch
            {
                TargetStatus.Passed => t.Cached ? "[green]cached[/]" : "[green]passed[/]",
                TargetStatus.GateFailed => "[red]gate failed[/]",
                _ => $"[red]{Markup.Escape(t.ErrorCode ?? "error")}[/]",
            };
            string size = t.QuantizedBytes is long q ? $"{Sizes.Bytes(q)} {100.0 * q / Math.Max(1, t.Fp32Bytes):0}%" : "-";
            table.AddRow(Markup.Escape(t.Name), verdict, Markup.Escape(Format(t.Fp32Value, t.Unit)), Markup.Escape(Format(t.QuantizedValue, t.Unit)),
                Markup.Escape(Format(t.Agreement, "%")), Markup.Escape(size), $"{t.Stages.Sum(s => s.Seconds):0.0}s");
        }

        console.Write(table);
        foreach (TargetResult t in run.Targets.Where(t => t.Fallback is not null))
        {
            console.MarkupLine($"[grey]{Markup.Escape(t.Name)} fallback:[/] {Markup.Escape(t.Fallback!.Summary)}");
        }

        foreach (TargetResult t in run.Targets.Where(t => t.OutputPath is not null))
        {
            console.MarkupLine($"[grey]{Markup.Escape(t.Name)} ({Markup.Escape(t.Device)}):[/] {Markup.Escape(t.OutputPath!)}");
        }

        if (run.ReportMarkdownPath is not null)
        {
            console.MarkupLine($"Report: {Markup.Escape(run.ReportHtmlPath!)} ({run.TotalSeconds:0.0}s in all)");
        }
    }

    private static string Format(double? value, string? unit) => value is double v ? AccuracyGate.Format(v, unit ?? string.Empty) : "-";
}

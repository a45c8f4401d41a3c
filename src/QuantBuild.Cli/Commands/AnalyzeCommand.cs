using System.CommandLine;
using System.Globalization;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Sessions;
using Spectre.Console;

namespace QuantBuild.Cli.Commands;

/// <summary>
/// <c>quantbuild analyze [-c quantize.yaml] [-t TARGET]... [--samples N] [--no-ladder] [--no-kernel-check] [--json]</c>:
/// per-layer outliers and sensitivity, the precision ladder and the kernel check — why the model loses accuracy.
/// </summary>
public static class AnalyzeCommand
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Builds the verb.</summary>
    public static Command Create(CliContext context)
    {
        var config = CommonOptions.Config();
        var targets = CommonOptions.Targets();
        var output = new Option<string?>("--output", "-o") { Description = "Write the analysis report here instead of the yaml's output folder." };
        var samples = new Option<int>("--samples") { Description = "Evaluation samples per trial (the first N).", DefaultValueFactory = _ => 500 };
        var noLadder = new Option<bool>("--no-ladder") { Description = "Skip the precision-ladder study." };
        var noKernels = new Option<bool>("--no-kernel-check") { Description = "Skip timing the quantized model against fp32." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document on stdout (logs go to stderr)." };
        var memoryBudget = CommonOptions.MemoryBudget();
        var command = new Command("analyze", "Per layer: weight and activation outliers, and the accuracy cost of quantizing it alone or of all but it; the precision ladder; the kernel check.")
        {
            config, targets, output, samples, noLadder, noKernels, json, memoryBudget,
        };
        command.SetAction(parse =>
        {
            MemoryBudget? budget = CommonOptions.ParseBudget(parse.GetValue(memoryBudget));
            QuantizeConfig loaded = CommonOptions.LoadConfig(parse.GetValue(config)!);
            bool asJson = parse.GetValue(json);
            using Serilog.Core.Logger log = CommonOptions.Logger(context);
            var analyzer = new ModelAnalyzer(loaded, log);
            var options = new AnalyzeOptions
            {
                Targets = parse.GetValue(targets) ?? Array.Empty<string>(),
                OutputDirectory = parse.GetValue(output),
                Samples = Math.Max(1, parse.GetValue(samples)),
                Ladder = !parse.GetValue(noLadder),
                KernelCheck = !parse.GetValue(noKernels),
                MemoryBudget = budget,
            };
            AnalysisResult result = context.ShowsProgressBars && !asJson
                ? SpectreProgress.Run(context.Console, progress => analyzer.Run(options with { Progress = progress }))
                : analyzer.Run(options with { Progress = new ConsoleProgress(context.ProgressWriter) });
            if (asJson)
            {
                JsonOutput.Write(context.Out, result);
            }
            else
            {
                Summarise(context.Console, result);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The per-target tables: layers worst first, then the ladder and kernel lines.</summary>
    public static void Summarise(IAnsiConsole console, AnalysisResult result)
    {
        foreach (TargetAnalysis t in result.Targets)
        {
            console.MarkupLine($"[bold]{Markup.Escape(t.Target)}[/] ({Markup.Escape(t.Device)}, {t.WeightBits}-bit weights): {Markup.Escape(t.Metric)} on {t.TrialSamples} of {t.EvaluationSamples} samples, " +
                $"fp32 {N(t.Fp32Value)}, all quantized {N(t.AllQuantized.Value)} (SQNR {Db(t.AllQuantized.SqnrDb)} dB, gate {(t.AllQuantized.Passed ? "[green]passes[/]" : "[red]fails[/]")})");
            var table = new Table().Border(TableBorder.Simple)
                .AddColumns("#", "layer", "op", "alone: drop", "alone: SQNR", "all but it: drop", "weight outlier worst/median", "act. range", "act. outlier");
            foreach (LayerAnalysis l in t.Layers)
            {
                string drop = l.OnlyQuantized.Drop > 0 ? $"[red]{N(l.OnlyQuantized.Drop)}[/]" : N(l.OnlyQuantized.Drop);
                table.AddRow(l.Rank.ToString(Invariant), Markup.Escape(l.Node), l.OpType, drop, Db(l.OnlyQuantized.SqnrDb) + " dB", N(l.LeftFp32.Drop),
                    $"{R(l.WeightWorstRatio)} (ch {l.WeightWorstChannel}) / {R(l.WeightMedianRatio)}", Markup.Escape($"[{N(l.ActivationMin)}, {N(l.ActivationMax)}]"), R(l.ActivationRatio));
            }

            console.Write(table);
            console.MarkupLine(Markup.Escape(AnalysisReport.Verdict(t)));
            if (t.Ladder.Count > 0)
            {
                console.MarkupLine("ladder (mantissa bits → " + Markup.Escape(t.Metric) + "): " +
                    string.Join("  ", t.Ladder.Where(p => p.MantissaBits is 23 or 16 or 12 or 10 or 8 or 6 or 5 or 4 or 3 or 2 or 1).Select(p => $"{p.MantissaBits}→{N(p.Value)}")));
            }

            if (t.Kernels is { } k)
            {
                string speed = k.Faster ? $"[green]{k.Speedup.ToString("0.00", Invariant)}×[/]" : $"[yellow]{k.Speedup.ToString("0.00", Invariant)}× (not faster)[/]";
                console.MarkupLine($"kernels: fp32 {k.Fp32Milliseconds.ToString("0.00", Invariant)} ms, quantized {k.QuantizedMilliseconds.ToString("0.00", Invariant)} ms per batch, {speed}; " +
                    (k.UnfusedNodes.Count == 0 ? "all fused" : "[yellow]not fused:[/] " + Markup.Escape(string.Join(", ", k.UnfusedNodes.Select(u => u.Node)))));
            }

            // The full list of fp32 nodes is in the report and --json; here, what calibration could not observe and what stayed fp32 for it.
            foreach ((string tensor, string why) in t.Unobserved.OrderBy(u => u.Key, StringComparer.Ordinal))
            {
                string nodes = string.Join(", ", t.FloatNodes.Where(n => n.Reason == why).Select(n => n.Node));
                console.MarkupLine($"[yellow]not calibrated:[/] {Markup.Escape(why)}; fp32 for want of its range: {Markup.Escape(nodes.Length == 0 ? "no node" : nodes)}");
            }

            foreach (string note in t.Notes)
            {
                console.MarkupLine("[grey]" + Markup.Escape(note) + "[/]");
            }

            console.WriteLine();
        }

        if (result.ReportHtmlPath is not null)
        {
            console.MarkupLine($"Report: {Markup.Escape(result.ReportMarkdownPath!)}, {Markup.Escape(result.ReportHtmlPath)}");
        }
    }

    private static string N(double v) => double.IsNaN(v) ? "-" : double.IsPositiveInfinity(v) ? "∞" : v.ToString("0.00", Invariant);

    private static string R(double v) => double.IsNaN(v) ? "-" : double.IsPositiveInfinity(v) ? "∞" : v.ToString("0.00", Invariant);

    private static string Db(double v) => double.IsPositiveInfinity(v) ? "∞" : v.ToString("0.0", Invariant);
}

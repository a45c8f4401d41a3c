using System.CommandLine;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Cli.Commands;

/// <summary><c>quantbuild eval -c quantize.yaml [-t TARGET]</c>: re-score the quantized models already written, against fp32.</summary>
public static class EvalCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliContext context)
    {
        var config = CommonOptions.Config();
        var targets = CommonOptions.Targets();
        var output = new Option<string?>("--output", "-o") { Description = "Read outputs from here instead of the yaml's output folder." };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary on stdout." };
        var memoryBudget = CommonOptions.MemoryBudget();
        var command = new Command("eval", "Evaluate the quantized models already written (no re-quantization) and apply the gate.")
        {
            config, targets, output, json, memoryBudget,
        };
        command.SetAction(parse =>
        {
            MemoryBudget? budget = CommonOptions.ParseBudget(parse.GetValue(memoryBudget));
            QuantizeConfig loaded = CommonOptions.LoadConfig(parse.GetValue(config)!);
            using Serilog.Core.Logger log = CommonOptions.Logger(context);
            RunResult result = new QuantizePipeline(loaded, log).EvaluateExisting(new PipelineOptions
            {
                Targets = parse.GetValue(targets) ?? Array.Empty<string>(),
                OutputDirectory = parse.GetValue(output),
                Progress = new ConsoleProgress(context.ProgressWriter),
                WriteReports = false,
                MemoryBudget = budget,
            });
            if (parse.GetValue(json))
            {
                JsonOutput.Write(context.Out, result);
            }
            else
            {
                RunCommand.Summarise(context.Console, result);
            }

            foreach (TargetResult t in result.Targets.Where(t => t.Error is not null))
            {
                context.Error.WriteLine(t.Error);
            }

            return RunCommand.ExitCode(result);
        });
        return command;
    }
}

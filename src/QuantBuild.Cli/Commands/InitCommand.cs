using System.CommandLine;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Cli.Commands;

/// <summary><c>quantbuild init --model m.onnx</c>: a commented starter quantize.yaml for that model.</summary>
public static class InitCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model", "-m") { Description = "The fp32 .onnx model to quantize.", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write the yaml (default: quantize.yaml beside the model)." };
        var force = new Option<bool>("--force") { Description = "Replace an existing file." };
        var command = new Command("init", "Write a commented starter quantize.yaml for a model.") { model, output, force };
        command.SetAction(parse =>
        {
            string modelPath = parse.GetValue(model)!;
            // Loading validates the model and gives its real input names for the data lines.
            OnnxModel loaded = OnnxModelLoader.Load(modelPath);
            IReadOnlyList<string> inputs = Batcher.ModelInputs(loaded).Select(i => i.Name).ToList();
            string written = StarterConfig.Write(modelPath, parse.GetValue(output), inputs, schemaLocation: null, overwrite: parse.GetValue(force));
            context.Out.WriteLine($"Wrote {written}");
            context.Out.WriteLine("Point calibration.data and evaluation.data at your data, then run: dotnet quantbuild run -c " + written);
            return ExitCodes.Ok;
        });
        return command;
    }
}

using System.CommandLine;
using QuantBuild.Engine.Inspection;
using QuantBuild.Onnx;
using Spectre.Console;

namespace QuantBuild.Cli.Commands;

/// <summary><c>quantbuild inspect MODEL [--json]</c>: what a model holds and what of it can be quantized.</summary>
public static class InspectCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "Path of the .onnx model to inspect." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of tables." };
        var command = new Command("inspect", "Show a model's inputs, outputs, opsets, ops, parameters and quantizable nodes.")
        {
            model,
            json,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!;
            ModelReport report = ModelInspector.Inspect(OnnxModelLoader.Load(path), path);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(context.Out, report);
            }
            else
            {
                Render(context.Console, report);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Render(IAnsiConsole console, ModelReport r)
    {
        console.MarkupLine($"[bold]{Markup.Escape(r.Path)}[/] ({Sizes.Bytes(r.FileBytes)})");
        string opsets = string.Join(", ", r.Opsets.Select(o => $"{o.Domain} {o.Version}"));
        console.MarkupLine(Markup.Escape($"IR version {r.IrVersion?.ToString() ?? "?"} · producer {r.Producer ?? "unknown"} · opsets {opsets}"));
        console.WriteLine();

        var io = new Table().Border(TableBorder.Simple).AddColumns("", "name", "type", "shape");
        foreach (ValueSummary v in r.Inputs)
        {
            io.AddRow("input", Markup.Escape(v.Name), v.ElementType, Markup.Escape(v.ShapeText));
        }

        foreach (ValueSummary v in r.Outputs)
        {
            io.AddRow("output", Markup.Escape(v.Name), v.ElementType, Markup.Escape(v.ShapeText));
        }

        console.Write(io);

        console.MarkupLine($"[bold]Parameters[/] {Sizes.Count(r.ParameterCount)} in {Sizes.Bytes(r.ParameterBytes)}");
        var parameters = new Table().Border(TableBorder.Simple).AddColumns("type", "tensors", "elements", "bytes");
        foreach (ParameterSummary p in r.ParametersByType)
        {
            parameters.AddRow(p.ElementType, Sizes.Count(p.Tensors), Sizes.Count(p.Elements), Sizes.Bytes(p.Bytes));
        }

        console.Write(parameters);
        if (r.UsesExternalData)
        {
            foreach (ExternalDataSummary e in r.ExternalData)
            {
                console.MarkupLine(Markup.Escape($"External data: {e.Location}: {e.Tensors} tensors, {Sizes.Bytes(e.Bytes)}"));
            }
        }
        else
        {
            console.MarkupLine("External data: none (all weights inside the .onnx file)");
        }

        console.WriteLine();
        console.MarkupLine($"[bold]Ops[/] ({r.NodeCount} nodes): " + Markup.Escape(string.Join(", ", r.Ops.Select(o => $"{o.OpType} {o.Count}"))));
        if (r.AlreadyQuantized)
        {
            console.MarkupLine("[yellow]This model already contains quantization operators.[/]");
        }

        console.WriteLine();
        int integer = r.Quantizable.Count(q => q.Fp32Reason is null);
        console.MarkupLine($"[bold]Layers[/] ({r.Quantizable.Count}, {integer} quantized by `run` on cpu-x64-vnni)");
        var quantizable = new Table().Border(TableBorder.Simple).AddColumns("node", "op", "weight", "weight shape", "constant", "int8");
        foreach (QuantizableNode q in r.Quantizable)
        {
            string name = q.Subgraph is null ? q.Name : $"{q.Subgraph}/{q.Name}";
            string shape = q.WeightShape is null ? "-" : Markup.Escape($"[{string.Join(",", q.WeightShape)}]");
            quantizable.AddRow(Markup.Escape(name), q.OpType, Markup.Escape(q.Weight ?? "-"), shape, q.WeightIsConstant ? "yes" : q.WeightIsDecoded ? "decoded at load (already coded)" : "no (runtime input)",
                q.Fp32Reason is null ? "yes" : "no");
        }

        console.Write(quantizable);

        // One line per distinct reason: a model with 40 layers in If branches shares one reason, not 40 rows of it.
        foreach (var group in r.Quantizable.Where(q => q.Fp32Reason is not null).GroupBy(q => q.Fp32Reason!.Replace(q.Subgraph ?? "\0", "…", StringComparison.Ordinal)))
        {
            string names = string.Join(", ", group.Take(3).Select(q => q.Name)) + (group.Count() > 3 ? $" and {group.Count() - 3} more" : string.Empty);
            console.MarkupLine($"  fp32 ({group.Count()}): {Markup.Escape(names)}: {Markup.Escape(group.Key)}");
        }
    }
}

using System.CommandLine;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Cli.Commands;

namespace QuantBuild.Cli;

/// <summary>The <c>dotnet quantbuild</c> command line: parses, dispatches to a verb, maps failures to exit codes.</summary>
public static class CliApp
{
    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var context = new CliContext(stdout, stderr, interactive);
        var root = new RootCommand("QuantBuild: quantize ONNX models at build time, prove they are still accurate, ship them.");
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(AnalyzeCommand.Create(context));
        root.Subcommands.Add(InitCommand.Create(context));
        root.Subcommands.Add(TargetsCommand.Create(context));
        root.Subcommands.Add(PluginsCommand.Create(context));

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"error: {error.Message}");
            }

            stderr.WriteLine("Run 'dotnet quantbuild --help' for usage.");
            return ExitCodes.Usage;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (QuantBuildException e)
        {
            stderr.WriteLine(e.ToDiagnosticString());
            return ExitCodes.Error;
        }
        catch (OutOfMemoryException e)
        {
            // Not a bug and not bad input: the machine (or a capped heap) was too small for this run.
            stderr.WriteLine(QuantBuild.Engine.Pipeline.ResourceErrors.OutOfMemory("this run", e).ToDiagnosticString());
            return ExitCodes.Error;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not bad input: say so plainly and keep the stack for the report.
            stderr.WriteLine($"error QB0001: internal error: {e.Message} Fix: this is a QuantBuild bug; please report it with the text below.");
            stderr.WriteLine(e);
            return ExitCodes.Error;
        }
    }
}

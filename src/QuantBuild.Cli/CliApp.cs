using System.CommandLine;
using System.CommandLine.Help;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Cli.Commands;
using QuantBuild.Engine.Config;

namespace QuantBuild.Cli;

/// <summary>The <c>dotnet quantbuild</c> command line: parses, dispatches to a verb, maps failures to exit codes.</summary>
public static class CliApp
{
    /// <summary>The command as people type it, in help and messages (not the assembly name).</summary>
    public const string CommandName = "dotnet quantbuild";

    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var context = new CliContext(stdout, stderr, interactive);
        var globals = new GlobalOptions();
        RootCommand root = Root(context, globals);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"error: {error.Message}{VerbSuggestion(root, parse, error)}");
            }

            stderr.WriteLine($"Run '{CommandName} --help' for usage.");
            return ExitCodes.Usage;
        }

        context.Verbosity = parse.GetValue(globals.Verbosity);
        context.LogFile = parse.GetValue(globals.LogFile);
        if (parse.Action is HelpAction)
        {
            return Help(parse, stdout);
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (ConfigValidationException e) when (e.Errors.Count > 1)
        {
            // One canonical line per error (file(line,col): error QBnnnn: ...), so IDEs and MSBuild pick up each one.
            foreach (QuantBuildException error in e.Errors)
            {
                stderr.WriteLine(error.ToDiagnosticString());
            }

            stderr.WriteLine($"{e.Errors.Count} configuration errors in {Path.GetFileName(e.FilePath)}; fix each one listed above.");
            return ExitCodes.Error;
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

    private static RootCommand Root(CliContext context, GlobalOptions globals)
    {
        var root = new RootCommand("QuantBuild: quantize ONNX models at build time, prove they are still accurate, ship them.")
        {
            globals.Verbosity,
            globals.LogFile,
        };
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(AnalyzeCommand.Create(context));
        root.Subcommands.Add(InitCommand.Create(context));
        root.Subcommands.Add(TargetsCommand.Create(context));
        root.Subcommands.Add(PluginsCommand.Create(context));
        root.Subcommands.Add(CacheCommand.Create(context));
        return root;
    }

    // System.CommandLine names the root after the executable (QuantBuild.Cli, dotnet-quantbuild); people type
    // 'dotnet quantbuild', and scripts need the exit codes, so help says both.
    private static int Help(ParseResult parse, TextWriter stdout)
    {
        var text = new StringWriter();
        parse.Invoke(new InvocationConfiguration { Output = text, Error = text });
        string help = text.ToString().Replace(RootCommand.ExecutableName + " ", CommandName + " ", StringComparison.Ordinal)
            .Replace(RootCommand.ExecutableName + Environment.NewLine, CommandName + Environment.NewLine, StringComparison.Ordinal);
        stdout.Write(help.TrimEnd() + Environment.NewLine);
        stdout.WriteLine();
        stdout.WriteLine("Exit codes:");
        stdout.WriteLine($"  {ExitCodes.Ok}  success");
        stdout.WriteLine($"  {ExitCodes.Error}  error: a QBnnnn diagnostic on stderr (bad config, failed pass, runtime failure)");
        stdout.WriteLine($"  {ExitCodes.Usage}  usage: the command line itself was wrong");
        stdout.WriteLine($"  {ExitCodes.GateFailed}  a target failed its accuracy gate");
        return ExitCodes.Ok;
    }

    // "rn" → "Did you mean 'run'?" for an unknown first word; System.CommandLine's own typo hints are not printed here.
    private static string VerbSuggestion(RootCommand root, ParseResult parse, System.CommandLine.Parsing.ParseError error)
    {
        if (parse.CommandResult.Command != root || parse.UnmatchedTokens.Count == 0 || !error.Message.Contains(parse.UnmatchedTokens[0], StringComparison.Ordinal))
        {
            return string.Empty;
        }

        string typed = parse.UnmatchedTokens[0];
        return typed.StartsWith('-') ? string.Empty : NameSuggester.DidYouMean(typed, root.Subcommands.Select(c => c.Name));
    }
}

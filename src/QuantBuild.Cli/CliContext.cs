using Spectre.Console;

namespace QuantBuild.Cli;

/// <summary>Where a verb writes: plain writers for machine output, a Spectre console for people.</summary>
public sealed class CliContext
{
    /// <summary>Creates the context over the given writers.</summary>
    public CliContext(TextWriter stdout, TextWriter stderr, bool interactive)
    {
        Out = stdout;
        Error = stderr;
        Interactive = interactive;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!interactive)
        {
            // Redirected output (CI logs, tests) must not wrap tables at an imaginary terminal width.
            Console.Profile.Width = 160;
        }
    }

    /// <summary>Standard output, for JSON and plain text.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error, for diagnostics.</summary>
    public TextWriter Error { get; }

    /// <summary>True when attached to a terminal: progress bars and colour are allowed.</summary>
    public bool Interactive { get; }

    /// <summary>The console for tables and progress.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>How much to log on stderr (<c>-v</c>).</summary>
    public Verbosity Verbosity { get; set; } = Verbosity.Normal;

    /// <summary>The log file (<c>--log</c>), or null.</summary>
    public string? LogFile { get; set; }

    /// <summary>Where progress lines go: stderr, or nowhere at quiet and minimal verbosity.</summary>
    public TextWriter ProgressWriter => Verbosity <= Verbosity.Minimal ? TextWriter.Null : Error;

    /// <summary>True when live progress bars may be drawn: a terminal, and not asked to be quiet.</summary>
    public bool ShowsProgressBars => Interactive && Verbosity > Verbosity.Minimal;
}
